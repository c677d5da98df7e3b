"""Build: the plan (pure), Dockerfile model, backends and input hashing."""
