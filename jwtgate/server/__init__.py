"""The gateway: an ASGI app built by create_app(); uvicorn only in `jwtgate serve`."""
