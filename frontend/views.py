"""Page shells. Every page is a Django template plus a small ES module that does all its work
through the REST API (session auth + CSRF), so the UI can do nothing the API cannot."""

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import Http404
from django.shortcuts import render

from webapp.access import project_for
from webapp.auth import record_login_failure, too_many_login_failures

# Tool pages: the API's tool status endpoint and the job kind each page runs.
TOOLS = {
    "capture": {"title": "Capture a material", "api": "materials", "kind": "material.two_shot"},
    "variations": {"title": "Texture variations", "api": "textures", "kind": "texture.variations"},
    "upscale": {"title": "Upscale", "api": "superres", "kind": "superres.upscale"},
}


@login_required
def projects(request):
    return render(request, "frontend/projects.html", {"page": "projects"})


@login_required
def tokens(request):
    return render(request, "frontend/tokens.html", {"page": "tokens"})


def _project_page(request, template, project_id, page, **extra):
    project, membership = project_for(request.user, project_id)
    return _render_project_page(request, template, project, membership, page, **extra)


def _render_project_page(request, template, project, membership, page, **extra):
    context = {"project": project, "role": membership.role, "page": page, **extra}
    return render(request, template, context)


@login_required
def project(request, project_id):
    return _project_page(request, "frontend/project.html", project_id, "assets")


@login_required
def members(request, project_id):
    return _project_page(request, "frontend/members.html", project_id, "members")


@login_required
def asset_set(request, project_id, set_id):
    project, membership = project_for(request.user, project_id)
    if not project.asset_sets.filter(pk=set_id).exists():
        raise Http404("No such asset set.")
    return _render_project_page(request, "frontend/set.html", project, membership, "assets", set_id=set_id)


@login_required
def jobs(request, project_id):
    return _project_page(request, "frontend/jobs.html", project_id, "jobs")


@login_required
def tool(request, project_id, tool):
    if tool not in TOOLS:
        raise Http404("No such tool.")
    return _project_page(request, "frontend/tool.html", project_id, tool, tool=tool, tool_info=TOOLS[tool])


class SignInView(LoginView):
    """Django's sign-in page, slowed down for password guessing like the API's token exchange."""

    template_name = "frontend/login.html"

    def post(self, request, *args, **kwargs):
        if too_many_login_failures(request):
            form = self.get_form()
            response = self.render_to_response(self.get_context_data(form=form, throttled=True), status=429)
            response["Retry-After"] = "60"
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        record_login_failure(self.request)
        return super().form_invalid(form)
