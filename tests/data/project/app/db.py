"""The data layer: the only module allowed to open connections."""
import psycopg2


def connect():
    return psycopg2.connect("postgresql://app@localhost/app")
