"""Front-end page shells (Django test client) and the static ES modules they load; no browser needed."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.utils.html import escape

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "frontend/static/frontend"
TEMPLATES = ROOT / "frontend/templates/frontend"


@pytest.fixture
def signed_in(client, alice):
    client.force_login(alice)
    return client


@pytest.mark.django_db
def test_pages_need_sign_in(client):
    for path in ["/", "/tokens/"]:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_password_guessing_on_the_sign_in_page_is_slowed_down(client, alice, settings):
    from datetime import timedelta

    from django.utils import timezone

    from webapp.models import LoginFailures

    settings.LOGIN_FAILURES_PER_MINUTE = 3
    sign_in = lambda password: client.post("/accounts/login/", {"username": "alice", "password": password})
    assert [sign_in("guess").status_code for _ in range(3)] == [200, 200, 200]
    blocked = sign_in("pw-alice")  # even the right password waits out the minute
    assert blocked.status_code == 429 and blocked["Retry-After"] == "60"
    assert b"Too many wrong passwords" in blocked.content and "_auth_user_id" not in client.session
    # Counted in the database, so every web process sees the same count.
    assert LoginFailures.objects.get().count == 3
    LoginFailures.objects.update(last_failure_at=timezone.now() - timedelta(seconds=61))  # the minute is over
    assert sign_in("pw-alice").status_code == 302


@pytest.mark.django_db
def test_login_keeps_the_username_after_a_wrong_password(client, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert b"Wrong username or password" in response.content and b'value="alice"' in response.content
    response = client.post("/accounts/login/", {"username": "alice", "password": "pw-alice"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_sign_out_page(signed_in):
    response = signed_in.post("/accounts/logout/")
    assert response.status_code == 200 and b"Signed out" in response.content
    assert signed_in.get("/").status_code == 302


def test_project_pages_render_for_members(signed_in, project):
    asset_set = project.asset_sets.create(name="Quay stone")
    base = f"/projects/{project.id}"
    for path in ["/", "/tokens/", f"{base}/", f"{base}/members/", f"{base}/jobs/", f"{base}/sets/{asset_set.id}/",
                 f"{base}/tools/capture/", f"{base}/tools/variations/", f"{base}/tools/upscale/"]:
        response = signed_in.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        assert re.search(r'<meta name="csrf-token" content="[^"]{20,}">', html), path
        assert "/static/frontend/vendor/three/three.module.js" in html  # import map: three.js served locally
        assert "https://" not in html.replace("https://www.w3.org", ""), f"{path} loads something remote"
        if path.startswith(base):
            assert f'data-project="{project.id}"' in html and escape(project.name) in html


def test_tool_pages_name_their_job_kind(signed_in, project):
    html = signed_in.get(f"/projects/{project.id}/tools/capture/").content.decode()
    assert 'data-kind="material.two_shot"' in html and 'data-tool-api="materials"' in html
    assert 'id="capture-tips"' in html and "Turn off HDR" in html  # how to take the two photos
    html = signed_in.get(f"/projects/{project.id}/tools/upscale/").content.decode()
    assert 'data-kind="superres.upscale"' in html and 'data-tool-api="superres"' in html
    assert 'id="capture-tips"' not in html


def test_other_peoples_projects_and_unknown_tools_are_404(client, bob, project):
    client.force_login(bob)
    assert client.get(f"/projects/{project.id}/").status_code == 404
    assert client.get(f"/projects/{project.id}/jobs/").status_code == 404
    from webapp.models import Membership

    Membership.objects.create(project=project, user=bob, role="viewer")
    assert client.get(f"/projects/{project.id}/").status_code == 200
    assert client.get(f"/projects/{project.id}/tools/bake-a-cake/").status_code == 404


def test_unknown_sets_and_paths_get_the_sites_404_page(signed_in, project):
    other = signed_in.get(f"/projects/{project.id}/sets/{project.id}/")  # a set id that is not in the project
    assert other.status_code == 404
    html = other.content.decode()
    assert 'id="not-found"' in html and 'href="/"' in html and "/static/frontend/css/app.css" in html
    assert "Signed in as" in html  # the site's top bar
    assert signed_in.get("/no-such-page/").status_code == 404
    api = signed_in.get("/api/v1/no-such-endpoint")
    assert api.status_code == 404 and api["Content-Type"].startswith("application/json")


def test_viewers_get_no_upload_or_job_forms(client, bob, project):
    from webapp.models import Membership

    Membership.objects.create(project=project, user=bob, role="viewer")
    client.force_login(bob)
    assert b'id="dropzone"' not in client.get(f"/projects/{project.id}/").content
    assert b'id="job-form"' not in client.get(f"/projects/{project.id}/jobs/").content


def test_every_module_import_and_static_reference_resolves():
    modules = sorted((STATIC / "js").glob("*.js"))
    assert modules
    for module in modules:
        for target in re.findall(r"""(?:from\s+|import\()\s*["'](\.[^"']+)["']""", module.read_text()):
            assert (module.parent / target).resolve().is_file(), f"{module.name} imports missing {target}"
    for template in TEMPLATES.glob("*.html"):
        for ref in re.findall(r"""{% static '([^']+)' %}""", template.read_text()):
            if "/vendor/" not in ref:  # vendor/ is filled by frontend/setup.sh
                assert (ROOT / "frontend/static" / ref).exists(), f"{template.name} references missing {ref}"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_modules_parse_as_es_modules(tmp_path):
    for module in sorted((STATIC / "js").glob("*.js")):
        copy = tmp_path / (module.stem + ".mjs")
        copy.write_text(module.read_text())
        checked = subprocess.run(["node", "--check", str(copy)], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, f"{module.name}: {checked.stderr}"
