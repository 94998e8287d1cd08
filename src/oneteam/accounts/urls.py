from django.urls import path

from oneteam.accounts import views

app_name = "accounts"

urlpatterns = [
    path("sign-up/", views.sign_up, name="sign-up"),
    path("sign-in/", views.sign_in, name="sign-in"),
    path("sign-out/", views.sign_out, name="sign-out"),
    path("password-reset/", views.password_reset, name="password-reset"),
    path("password-reset/sent/", views.password_reset_sent, name="password-reset-sent"),
    path("reset/<str:uid>/<str:token>/", views.password_reset_confirm,
         name="password-reset-confirm"),
    path("profile/", views.profile, name="profile"),
    path("password/", views.change_password, name="password-change"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.revoke_token, name="token-revoke"),
]
