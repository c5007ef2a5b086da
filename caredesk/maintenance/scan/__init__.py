"""Security scans: installed versions against a vulnerability feed, and checks from outside."""
