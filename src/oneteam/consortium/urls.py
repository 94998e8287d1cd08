from django.urls import path

from oneteam.consortium import views

app_name = "consortium"

urlpatterns = [
    path("", views.directory, name="directory"),
    path("orgs/<slug:slug>/", views.organization_page, name="organization"),
    path("orgs/<slug:slug>/ledger-status/", views.ledger_status_fragment, name="ledger-status"),
    path("orgs/<slug:slug>/join/", views.start_joining, name="join"),
    path("orgs/<slug:slug>/members/", views.members, name="members"),
    path("orgs/<slug:slug>/members/<int:person_id>/roles/", views.member_roles,
         name="member-roles"),
    path("orgs/<slug:slug>/invitations/<int:invitation_id>/withdraw/",
         views.withdraw_invitation, name="invitation-withdraw"),
    path("orgs/<slug:slug>/keys/", views.keys, name="keys"),
    path("orgs/<slug:slug>/keys/rotate/", views.rotate_key, name="key-rotate"),
    path("orgs/<slug:slug>/keys/<int:number>/revoke/", views.revoke_key, name="key-revoke"),
    path("orgs/<slug:slug>/approvals/", views.approvals, name="approvals"),
    path("orgs/<slug:slug>/approvals/<slug:subject>/", views.approve, name="approve"),
    path("orgs/<slug:slug>/ledger/", views.transactions, name="transactions"),
    path("ledger/transactions/<int:submission_id>/retry/", views.retry_transaction,
         name="transaction-retry"),
    path("alliance/", views.alliance, name="alliance"),
    path("alliance/new/", views.new_organization, name="organization-new"),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
]

# did:web fixes where a DID document is: did:web:<host>:orgs:<slug> is served at
# https://<host>/orgs/<slug>/did.json, at the site root (platform.urls mounts these).
root_urlpatterns = [
    path("orgs/<slug:slug>/did.json", views.did_document, name="consortium-did"),
]
