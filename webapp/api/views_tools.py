from django.http import JsonResponse

from webapp.jobs import registry


def tool_status(request, tool: str, kinds: list[str]):
    """Which of a tool's job kinds this server offers, so clients can tell "not available yet"."""
    available = {k.name for k in registry.all_kinds()}
    return JsonResponse({"tool": tool, "kinds": {k: k in available for k in kinds}})
