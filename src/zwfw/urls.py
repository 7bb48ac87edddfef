from django.contrib import admin
from django.urls import include, path

from zwfw.api.main import api
from zwfw.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("metrics", core_views.metrics_view, name="metrics"),
    path("api/v1/", api.urls),
    path("items/", include("zwfw.catalog.urls")),
    path("licences/", include("zwfw.licences.urls")),
    path("ratings/", include("zwfw.ratings.urls")),
    path("accounts/", include("zwfw.identity.urls")),
    path("workbench/identity/", include("zwfw.identity.workbench_urls")),
    path("workbench/dashboards/", include("zwfw.indicators.urls")),
    path("workbench/", include("zwfw.workbench.urls")),
    path("admin/", admin.site.urls),
    # OpenID Connect provider: /.well-known/openid-configuration and /oauth/… (zwfw.sso)
    path("", include("zwfw.sso.oauth_urls")),
    path("sso/", include("zwfw.sso.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # The portal's pages (我要查 / 我要办 / 我的 …); after the apps above so their paths win.
    path("", include("zwfw.portal.urls")),
]

handler404 = "zwfw.core.views.page_not_found"
handler500 = "zwfw.core.views.server_error"
