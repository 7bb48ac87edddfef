"""Single sign-on: the node as an OpenID Connect provider, and federation with other providers.

Public surface for other apps: :mod:`zwfw.sso.services` (clients, federated identities) and
:func:`zwfw.sso.tokens.client_for_bearer` (machine access tokens on API calls).
"""
