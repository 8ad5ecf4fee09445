"""The SQL storage driver: SQLite, MySQL/MariaDB and PostgreSQL."""
