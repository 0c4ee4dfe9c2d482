"""How gunicorn serves the app (../../gunicorn.conf.py names these modules): the worker
class, its JSON refusals, the graceful stop, the body-read deadline and the WSGI entry point."""
