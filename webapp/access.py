"""Project access: a user sees only projects they belong to; everything else is 404."""

from django.http import Http404
from rest_framework.exceptions import PermissionDenied

from webapp.models import Membership, Project, Role


def projects_for(user):
    """The projects `user` is a member of (invitations not yet accepted give no access)."""
    return Project.objects.filter(memberships__user=user, memberships__accepted=True)


def project_for(user, project_id, needs: str = Role.VIEWER) -> tuple[Project, Membership]:
    """The project if `user` is a member with at least role `needs`.

    Not a member (or no such project, or only invited): 404, so ids of other projects
    reveal nothing.
    A member without the role: 403, since the project itself is visible to them.
    """
    membership = (
        Membership.objects.select_related("project").filter(project_id=project_id, user=user, accepted=True).first()
        if user.is_authenticated
        else None
    )
    if membership is None:
        raise Http404("No such project.")
    if not membership.allows(needs):
        raise PermissionDenied(f"This needs the {needs} role in the project; you are {membership.role}.")
    return membership.project, membership
