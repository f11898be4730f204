-- Keep Reclip's Supabase Storage bucket private to the service.
--
-- Reclip reaches the bucket with the service role key (STORAGE_BACKEND=supabase) or S3 access keys
-- (STORAGE_BACKEND=s3), both of which bypass row level security; people get short-lived signed URLs
-- from Reclip, never a path to the bucket. So the bucket is not public, and a RESTRICTIVE policy
-- denies every end-user role, whatever permissive policy another feature of the project adds to
-- storage.objects later ("signed-in users may read everything", say).
--
-- Run it once in the SQL editor (or `psql "$DATABASE_URL" -f deploy/supabase-storage-policies.sql`).
-- The bucket is called `recordings` here: change the three occurrences to your SUPABASE_BUCKET.
BEGIN;

INSERT INTO storage.buckets (id, name, public)
VALUES ('recordings', 'recordings', false)
ON CONFLICT (id) DO UPDATE SET public = false;

DROP POLICY IF EXISTS "reclip bucket is for the service only" ON storage.objects;
CREATE POLICY "reclip bucket is for the service only" ON storage.objects
  AS RESTRICTIVE
  FOR ALL
  TO anon, authenticated
  USING (bucket_id <> 'recordings')
  WITH CHECK (bucket_id <> 'recordings');

COMMIT;
