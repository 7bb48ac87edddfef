"""Provider endpoints, included at the site root under the toolkit's namespace.

The toolkit reverses its own URL names (``oauth2_provider:token`` …) to build the discovery
document and the issuer, so the namespace must stay ``oauth2_provider``. Only what the platform
offers is routed: no device flow, no dynamic client registration, no self-service application
pages (clients are managed by administrators).
"""

from django.urls import path, re_path
from oauth2_provider import views as dot_views

from zwfw.sso import views

app_name = "oauth2_provider"

urlpatterns = [
    re_path(
        r"^\.well-known/openid-configuration/?$",
        views.ConnectDiscoveryInfoView.as_view(),
        name="oidc-connect-discovery-info",
    ),
    path(
        ".well-known/oauth-authorization-server",
        dot_views.OAuthServerMetadataView.as_view(),
        name="oauth-server-metadata",
    ),
    path("oauth/authorize/", views.AuthorizationView.as_view(), name="authorize"),
    path("oauth/token/", views.TokenView.as_view(), name="token"),
    path("oauth/revoke/", views.RevokeTokenView.as_view(), name="revoke-token"),
    path("oauth/introspect/", views.IntrospectTokenView.as_view(), name="introspect"),
    path("oauth/userinfo/", views.UserInfoView.as_view(), name="user-info"),
    path("oauth/logout/", views.RPInitiatedLogoutView.as_view(), name="rp-initiated-logout"),
    path("oauth/jwks/", views.JwksInfoView.as_view(), name="jwks-info"),
]
