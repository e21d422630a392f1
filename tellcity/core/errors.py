"""Error pages: HTML for people, a machine-readable JSON body for API clients."""

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

JSON_PREFIXES = ("/api/", "/open311/", "/healthz")


def wants_json() -> bool:
    if request.path.startswith(JSON_PREFIXES):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def handle_http_error(error: HTTPException):
    if wants_json():
        body = {"error": {"code": error.code, "name": error.name, "message": error.description}}
        return jsonify(body), error.code
    return render_template("errors/error.html", error=error), error.code


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
