"""schema.sql, which the server runs at start-up, is exactly what the SQLModel tables generate."""

from mesibo_mock.store.tables import SCHEMA_FILE, generate_schema_sql


def test_schema_sql_matches_the_models():
    assert SCHEMA_FILE.read_text() == generate_schema_sql(), (
        "run `python -m mesibo_mock.store.tables` after changing app/models.py"
    )


def test_the_server_does_not_import_sqlalchemy_to_start():
    import subprocess
    import sys

    code = (
        "import sys; from mesibo_mock.server.settings import Settings; from mesibo_mock.lifecycle import build_runtime; "
        "from mesibo_mock.main import create_app; create_app(build_runtime(Settings(db=':memory:', app_token='t'))); "
        "heavy = [m for m in ('sqlalchemy', 'sqlmodel', 'cryptography', 'jinja2', 'yaml', 'httpx') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
