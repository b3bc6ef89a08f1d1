"""Projects, membership roles, tokens and the rule that other projects answer 404."""

import pytest

from webapp.models import ApiToken, Membership, Project, Role

pytestmark = pytest.mark.django_db


def test_unauthenticated_requests_are_refused_with_json(api_for):
    response = api_for().get("/api/v1/projects")
    assert response.status_code == 401
    assert response.json()["error"]["status"] == 401
    assert "credentials" in response.json()["error"]["message"].lower()


def test_revoked_or_unknown_token_is_refused(api_for, alice):
    api = api_for(alice)
    assert api.get("/api/v1/projects").status_code == 200
    token = ApiToken.objects.get(user=alice)
    assert api.delete(f"/api/v1/tokens/{token.id}").status_code == 204
    refused = api.get("/api/v1/projects")
    assert refused.status_code == 401
    assert "revoked" in refused.json()["error"]["message"]
    api.credentials(HTTP_AUTHORIZATION="Token gat_not-a-real-key")
    assert api.get("/api/v1/projects").status_code == 401


def test_named_tokens_are_shown_once_and_stored_hashed(api_for, alice):
    api = api_for(alice)
    created = api.post("/api/v1/tokens", {"name": "build server"}, format="json")
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("gat_") and len(key) > 30
    stored = ApiToken.objects.get(pk=created.json()["id"])
    assert key not in (stored.key_hash, stored.prefix) and stored.prefix == key[:12]
    listing = api.get("/api/v1/tokens").json()["results"]
    assert {t["name"] for t in listing} == {"tests", "build server"}
    assert all("key" not in t for t in listing)
    other = api_for()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert other.get("/api/v1/me").json()["username"] == "alice"


def test_password_login_issues_a_token(api_for, alice):
    response = api_for().post("/api/v1/auth/token", {"username": "alice", "password": "pw-alice", "name": "cli"},
                              format="json")
    assert response.status_code == 201
    wrong = api_for().post("/api/v1/auth/token", {"username": "alice", "password": "nope"}, format="json")
    assert wrong.status_code == 403


def test_password_guessing_is_slowed_down(api_for, alice, settings):
    from datetime import timedelta

    from django.utils import timezone

    from webapp.models import LoginFailures

    settings.LOGIN_FAILURES_PER_MINUTE = 3
    login = lambda password: api_for().post("/api/v1/auth/token", {"username": "alice", "password": password},
                                            format="json")
    assert [login("guess").status_code for _ in range(3)] == [403, 403, 403]
    blocked = login("pw-alice")  # even the right password waits out the minute
    assert blocked.status_code == 429 and "Too many wrong passwords" in blocked.json()["error"]["message"]
    assert blocked["Retry-After"] == "60"
    # Counted in the database, so every web process sees the same count.
    assert LoginFailures.objects.get().count == 3
    LoginFailures.objects.update(last_failure_at=timezone.now() - timedelta(seconds=61))  # the minute is over
    assert login("pw-alice").status_code == 201


def test_create_project_makes_creator_owner_and_slug(api_for, alice):
    api = api_for(alice)
    response = api.post("/api/v1/projects", {"name": "Brick Walls"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["slug"] == "brick-walls" and body["role"] == "owner"
    again = api.post("/api/v1/projects", {"name": "Brick Walls"}, format="json").json()
    assert again["slug"] == "brick-walls-2"
    assert Membership.objects.get(project_id=body["id"], user=alice).role == Role.OWNER
    taken = api.post("/api/v1/projects", {"name": "Walls", "slug": "brick-walls"}, format="json")
    assert taken.status_code == 400 and "already have a project" in str(taken.json())


def test_slugs_say_nothing_about_other_users_projects(api_for, alice, bob):
    api_for(alice).post("/api/v1/projects", {"name": "Secret Sequel", "slug": "secret-sequel"}, format="json")
    bobs = api_for(bob)
    # Neither a refusal nor a "-2" suffix: bob's slugs are his own.
    named = bobs.post("/api/v1/projects", {"name": "Secret Sequel"}, format="json")
    assert named.status_code == 201 and named.json()["slug"] == "secret-sequel"
    chosen = bobs.post("/api/v1/projects", {"name": "Other", "slug": "secret-sequel-2"}, format="json")
    assert chosen.status_code == 201
    renamed = bobs.patch(f"/api/v1/projects/{chosen.json()['id']}", {"slug": "secret-sequel"}, format="json")
    assert renamed.status_code == 400  # his own project has it
    assert Project.objects.filter(slug="secret-sequel").count() == 2


def test_other_users_project_answers_404_everywhere(api_for, project, bob):
    api = api_for(bob)
    base = f"/api/v1/projects/{project.id}"
    assert api.get("/api/v1/projects").json()["results"] == []
    for path in ("", "/members", "/sets", "/assets", "/jobs"):
        response = api.get(base + path)
        assert response.status_code == 404, path
        assert response.json()["error"]["message"] == "Not found."
        assert api.options(base + path).status_code == 404, path  # OPTIONS tells nothing either
    for path in ("/uploads", "/webhooks", "/materials/capture"):
        assert api.options(base + path).status_code == 404, path
    assert api.post(base + "/jobs", {"kind": "previews"}, format="json").status_code == 404
    assert api.delete(base).status_code == 404
    assert Project.objects.filter(pk=project.id).exists()


def test_roles_limit_what_members_can_do(api_for, project, alice, bob, make_user):
    owner = api_for(alice)
    base = f"/api/v1/projects/{project.id}"
    added = owner.post(base + "/members", {"username": "bob", "role": "viewer"}, format="json")
    assert added.status_code == 201
    viewer = api_for(bob)
    assert viewer.post(f"/api/v1/invitations/{added.json()['id']}/accept").status_code == 200
    assert viewer.get(base).json()["role"] == "viewer"
    refused = viewer.post(base + "/jobs", {"kind": "previews", "inputs": {"assets": []}}, format="json")
    assert refused.status_code == 403
    assert "editor" in refused.json()["error"]["message"]
    assert viewer.patch(base, {"name": "mine"}, format="json").status_code == 403
    member_id = added.json()["id"]
    assert owner.patch(f"{base}/members/{member_id}", {"role": "editor"}, format="json").status_code == 200
    assert viewer.patch(base, {"name": "mine"}, format="json").status_code == 403  # editors don't rename
    duplicate = owner.post(base + "/members", {"username": "bob"}, format="json")
    assert duplicate.status_code == 409
    unknown = owner.post(base + "/members", {"username": "nobody"}, format="json")
    assert unknown.status_code == 400 and unknown.json()["error"]["field"] == "username"


def test_member_emails_are_shown_to_owners_and_to_the_member_only(api_for, project, alice, bob, make_user):
    base = f"/api/v1/projects/{project.id}"
    added = api_for(alice).post(base + "/members", {"username": "bob", "role": "editor"}, format="json").json()
    assert added["email"] == "bob@example.com"
    api_for(bob).post(f"/api/v1/invitations/{added['id']}/accept")
    as_owner = {m["username"]: m["email"] for m in api_for(alice).get(base + "/members").json()["results"]}
    assert as_owner == {"alice": "alice@example.com", "bob": "bob@example.com"}
    as_editor = {m["username"]: m["email"] for m in api_for(bob).get(base + "/members").json()["results"]}
    assert as_editor == {"alice": "", "bob": "bob@example.com"}
    owner_row = Membership.objects.get(project=project, user=alice)
    assert api_for(bob).get(f"{base}/members/{owner_row.id}").json()["email"] == ""


def test_last_owner_cannot_leave_or_be_demoted(api_for, project, alice):
    owner = api_for(alice)
    base = f"/api/v1/projects/{project.id}"
    me = Membership.objects.get(project=project, user=alice)
    assert owner.patch(f"{base}/members/{me.id}", {"role": "viewer"}, format="json").status_code == 409
    assert owner.delete(f"{base}/members/{me.id}").status_code == 409


def test_owner_can_update_and_delete_project(api_for, project, alice):
    owner = api_for(alice)
    base = f"/api/v1/projects/{project.id}"
    assert owner.patch(base, {"description": "walls"}, format="json").json()["description"] == "walls"
    assert owner.delete(base).status_code == 204
    assert not Project.objects.filter(pk=project.id).exists()


def test_openapi_schema_and_local_docs(api_for, alice, client):
    schema = api_for(alice).get("/api/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    assert "/api/v1/projects/{project_id}/jobs" in text
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    page = docs.content.decode()
    assert "swagger-ui" in page and "cdn" not in page.lower() and "http://" not in page.replace("http://www.w3.org", "")


def test_wrong_passwords_count_per_address_and_restart_after_a_quiet_minute(api_for, alice, settings):
    from datetime import timedelta

    from django.utils import timezone

    from webapp.models import LoginFailures

    settings.LOGIN_FAILURES_PER_MINUTE = 2
    login = lambda address, password="guess": api_for().post(
        "/api/v1/auth/token", {"username": "alice", "password": password}, format="json", REMOTE_ADDR=address)
    assert [login("10.0.0.1").status_code for _ in range(2)] == [403, 403]
    assert login("10.0.0.1", "pw-alice").status_code == 429
    assert login("10.0.0.2", "pw-alice").status_code == 201  # another address is not slowed down
    LoginFailures.objects.update(last_failure_at=timezone.now() - timedelta(seconds=90))
    assert login("10.0.0.1").status_code == 403  # a failure after a quiet minute counts from one again
    assert LoginFailures.objects.get(address="10.0.0.1").count == 1
    assert login("10.0.0.1", "pw-alice").status_code == 201


def test_members_are_invited_and_join_only_when_they_accept(api_for, project, alice, bob, make_user):
    owner, invitee = api_for(alice), api_for(bob)
    base = f"/api/v1/projects/{project.id}"
    invited = owner.post(base + "/members", {"username": "bob", "role": "editor"}, format="json")
    assert invited.status_code == 201
    assert invited.json()["accepted"] is False and invited.json()["invited_by"] == "alice"
    again = owner.post(base + "/members", {"username": "bob"}, format="json")
    assert again.status_code == 409 and "already invited" in again.json()["error"]["message"]
    # Invited is not a member: the project stays out of sight until the invitation is accepted.
    assert invitee.get(base).status_code == 404
    assert invitee.get("/api/v1/projects").json()["results"] == []
    pending = invitee.get("/api/v1/invitations").json()["results"]
    assert [(i["project"]["name"], i["role"], i["invited_by"]) for i in pending] == [(project.name, "editor", "alice")]
    # Nobody else can answer it, the owner included.
    mallory = api_for(make_user("mallory"))
    invitation = pending[0]["id"]
    assert mallory.post(f"/api/v1/invitations/{invitation}/accept").status_code == 404
    assert mallory.delete(f"/api/v1/invitations/{invitation}").status_code == 404
    assert owner.post(f"/api/v1/invitations/{invitation}/accept").status_code == 404
    assert owner.get("/api/v1/invitations").json()["results"] == []
    accepted = invitee.post(f"/api/v1/invitations/{invitation}/accept")
    assert accepted.status_code == 200 and accepted.json()["role"] == "editor"
    assert invitee.get(base).status_code == 200
    assert invitee.get("/api/v1/invitations").json()["results"] == []
    assert invitee.post(f"/api/v1/invitations/{invitation}/accept").status_code == 404  # answered once
    members = {m["username"]: m["accepted"] for m in owner.get(base + "/members").json()["results"]}
    assert members == {"alice": True, "bob": True}


def test_a_declined_invitation_is_gone_and_an_invited_owner_does_not_count(api_for, project, alice, bob):
    owner, invitee = api_for(alice), api_for(bob)
    base = f"/api/v1/projects/{project.id}"
    invited = owner.post(base + "/members", {"username": "bob", "role": "owner"}, format="json").json()
    # The only accepted owner cannot step down on the strength of an invitation.
    mine = Membership.objects.get(project=project, user=alice)
    refused = owner.patch(f"{base}/members/{mine.id}", {"role": "editor"}, format="json")
    assert refused.status_code == 409
    assert invitee.delete(f"/api/v1/invitations/{invited['id']}").status_code == 204
    assert not Membership.objects.filter(project=project, user=bob).exists()
    assert invitee.get(base).status_code == 404
    # Declined, the owner may invite again; the owner can also withdraw an invitation.
    again = owner.post(base + "/members", {"username": "bob"}, format="json").json()
    assert owner.delete(f"{base}/members/{again['id']}").status_code == 204
    assert invitee.get("/api/v1/invitations").json()["results"] == []
