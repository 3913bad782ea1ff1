"""The Convex room authority: an aiohttp + python-socketio server (timers, battles, relay, ghosts)."""
