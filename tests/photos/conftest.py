import pytest

from tellcity import create_app


@pytest.fixture
def image_app(tmp_path):
    """An app without a database, for what only looks at images."""
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "tests"})
    with app.app_context():
        yield app
