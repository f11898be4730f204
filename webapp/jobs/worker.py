"""The consumer's entry point: `huey_consumer webapp.jobs.worker.queue`."""
from webapp import create_app

app = create_app()
queue = app.extensions["job_queue"]
