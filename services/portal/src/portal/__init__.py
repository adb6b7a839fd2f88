"""Kompas ASN portal: server-rendered pages over the four services' HTTP APIs.

It signs people in with the city's OpenID Connect provider (authorization code with PKCE),
keeps their tokens on the server and calls the services with each person's own token. It
has no access of its own and no database.
"""
