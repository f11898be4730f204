"""Post for me: connected Facebook, Instagram and TikTok accounts, and clips published to them."""
