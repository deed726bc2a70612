"""The gateway: an ASGI app built by create_app(), served by jwtgate's own HTTP server (`http_server`)."""
