"""Electronic licences (电子证照, SPEC §9): identifiers now; types, issue and use to come."""
