-- Run once by the postgres image on an empty data directory: one database per service,
-- none reads another's. Their tables come from `asn-admin migrate` (the *-setup services).
CREATE DATABASE competency;
CREATE DATABASE training;
CREATE DATABASE budget;
CREATE DATABASE notification;
