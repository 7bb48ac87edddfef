"""The site's URLs plus the ratings pages (until the project urlconf includes them)."""

from django.urls import include, path

from zwfw import urls as site

urlpatterns = list(site.urlpatterns)
if not any(getattr(p, "namespace", None) == "ratings" for p in urlpatterns):
    urlpatterns.insert(0, path("ratings/", include("zwfw.ratings.urls")))

handler404 = site.handler404
handler500 = site.handler500
