-- One database per service (ARCHITECTURE.md: no service reads another's tables).
CREATE DATABASE demand;
CREATE DATABASE supply;
CREATE DATABASE capacity;
CREATE DATABASE cycle;
