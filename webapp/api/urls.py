from django.urls import include, path

from materials.views import CaptureUpload
from webapp.api import views as v

app_name = "api"
P = "projects/<uuid:project_id>"
urlpatterns = [
    path("me", v.Me.as_view(), name="me"),
    path("auth/token", v.LoginToken.as_view(), name="login-token"),
    path("tokens", v.TokenList.as_view(), name="token-list"),
    path("tokens/<uuid:token_id>", v.TokenDetail.as_view(), name="token-detail"),
    path("job-kinds", v.JobKindList.as_view(), name="job-kinds"),
    path("invitations", v.InvitationList.as_view(), name="invitation-list"),
    path("invitations/<int:invitation_id>", v.InvitationDetail.as_view(), name="invitation-detail"),
    path("invitations/<int:invitation_id>/accept", v.InvitationAccept.as_view(), name="invitation-accept"),
    path("projects", v.ProjectList.as_view(), name="project-list"),
    path(f"{P}", v.ProjectDetail.as_view(), name="project-detail"),
    path(f"{P}/members", v.MemberList.as_view(), name="member-list"),
    path(f"{P}/members/<int:member_id>", v.MemberDetail.as_view(), name="member-detail"),
    path(f"{P}/uploads", v.UploadView.as_view(), name="upload"),
    path(f"{P}/sets", v.AssetSetList.as_view(), name="set-list"),
    path(f"{P}/sets/<uuid:set_id>", v.AssetSetDetail.as_view(), name="set-detail"),
    path(f"{P}/sets/<uuid:set_id>/download", v.AssetSetDownload.as_view(), name="set-download"),
    path(f"{P}/assets", v.AssetList.as_view(), name="asset-list"),
    path(f"{P}/assets/<uuid:asset_id>", v.AssetDetail.as_view(), name="asset-detail"),
    path(f"{P}/assets/<uuid:asset_id>/download", v.AssetDownload.as_view(), name="asset-download"),
    path(f"{P}/jobs", v.JobList.as_view(), name="job-list"),
    path(f"{P}/jobs/<uuid:job_id>", v.JobDetail.as_view(), name="job-detail"),
    path(f"{P}/jobs/<uuid:job_id>/cancel", v.JobCancel.as_view(), name="job-cancel"),
    path(f"{P}/materials/capture", CaptureUpload.as_view(), name="material-capture"),
    path("", include("integrations.urls")),
]
