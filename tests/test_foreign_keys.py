"""Foreign-key chains: which tables are tenant data through their parents."""
from __future__ import annotations

import ast

from tenantlint.foreign_keys import foreign_key, parent_chains


def _key(code: str):
    stmt = ast.parse(code).body[0]
    annotation = stmt.annotation if isinstance(stmt, ast.AnnAssign) else None
    return foreign_key(stmt.value, annotation)


def test_nullability_follows_sqlalchemy_defaults():
    assert _key('x = Column(Integer, ForeignKey("apps.id"))') == ("apps", True)
    assert _key('x = Column(Integer, ForeignKey("apps.id"), nullable=False)') == ("apps", False)
    assert _key('x: Mapped[int] = mapped_column(ForeignKey("apps.id"))') == ("apps", False)
    assert _key('x: Mapped[Optional[int]] = mapped_column(ForeignKey("apps.id"))') == ("apps", True)
    assert _key('x: Mapped[int | None] = mapped_column(ForeignKey("apps.id"))') == ("apps", True)
    assert _key('x: Mapped[int] = mapped_column(ForeignKey("apps.id"), nullable=True)') == ("apps", True)
    assert _key('x = Column(Integer, ForeignKey("apps.id"), primary_key=True)') == ("apps", False)
    assert _key('x = Column(Integer)') is None


def test_chains_stop_at_nullable_keys_globals_and_three_hops():
    keys = {
        "conversations": [("app_id", "apps", False)],
        "messages": [("conversation_id", "conversations", False)],
        "reactions": [("message_id", "messages", False)],
        "emoji": [("reaction_id", "reactions", False)],
        "notes": [("app_id", "apps", True)],
        "settings": [("app_id", "apps", False)],
    }
    chains = parent_chains(keys, {"apps"}, {"settings"})
    assert chains["messages"] == (("messages", "conversation_id", "conversations"),
                                  ("conversations", "app_id", "apps"))
    assert len(chains["reactions"]) == 3
    assert "emoji" not in chains  # four hops
    assert "notes" not in chains  # a nullable key ties nothing
    assert "settings" not in chains  # global-tables exempts
    assert "apps" not in chains  # a tenant table of its own


def test_catalog_shows_the_chains():
    from pathlib import Path

    from tenantlint.config import load_settings
    from tenantlint.discover import build_catalog
    from tenantlint.report_catalog import describe

    config = Path(__file__).parent.parent / "fixtures" / "rules" / "orm_parents" / "tenantlint.toml"
    settings = load_settings(config)
    catalog = build_catalog(settings)
    chains = {t["name"]: t["chain"] for t in describe(catalog, settings)["parent_tables"]}
    assert chains["order_lines"] == ["order_lines.order_id -> orders", "orders.customer_id -> customers"]
    assert "notes" not in chains and "tags" not in chains and "shipments" not in chains
    assert catalog.models["OrderLine"].extra["parents"] == {"order_id": "Order"}


# -- every source of keys, replayed ------------------------------------------------

from orm.orm_helpers import catalog_for  # noqa: E402

_DJANGO_TENANT = '''
    from django.db import models

    class Workspace(models.Model):
        name = models.CharField(max_length=10)

    class Bot(models.Model):
        workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE)
'''
_CONFIG = 'tenant-columns = ["workspace_id"]\nglobal-tables = ["chat_workspace"]\n'


def _chains(catalog):
    return {t: [f"{a}.{c} -> {p}" for a, c, p in hops] for t, hops in catalog.indirect.items()}


def test_django_models_string_targets_self_and_mixins_across_files(tmp_path):
    catalog = catalog_for(tmp_path, {
        "chat/__init__.py": "",
        "chat/base.py": '''
            from django.db import models

            class Owned(models.Model):
                bot = models.ForeignKey("chat.Bot", on_delete=models.CASCADE)

                class Meta:
                    abstract = True
        ''',
        "chat/models.py": _DJANGO_TENANT + '''
    from chat.base import Owned

    class Conversation(Owned):
        title = models.CharField(max_length=10)

    class Message(models.Model):
        conversation = models.ForeignKey(to="Conversation", on_delete=models.CASCADE)
        reply_to = models.ForeignKey("self", null=True, on_delete=models.CASCADE)

    class Draft(models.Model):
        conversation = models.OneToOneField(Conversation, null=True, on_delete=models.CASCADE)
        ''',
    }, _CONFIG)
    chains = _chains(catalog)
    assert chains["chat_conversation"] == ["chat_conversation.bot_id -> chat_bot"]
    assert chains["chat_message"] == ["chat_message.conversation_id -> chat_conversation",
                                      "chat_conversation.bot_id -> chat_bot"]
    assert "chat_draft" not in chains
    message = catalog.models["Message"]
    assert message.extra["parents"] == {"conversation_id": "Conversation"}
    assert message.extra["links"] == {"conversation": "Conversation", "reply_to": "Message"}


def test_django_user_model_is_the_projects_own(tmp_path):
    catalog = catalog_for(tmp_path, {
        "accounts/models.py": '''
            from django.contrib.auth.models import AbstractUser
            from django.db import models

            class User(AbstractUser):
                workspace_id = models.IntegerField()
        ''',
        "notes/models.py": '''
            from django.conf import settings
            from django.db import models

            class Note(models.Model):
                author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
        ''',
    }, _CONFIG)
    assert _chains(catalog)["notes_note"] == ["notes_note.author_id -> accounts_user"]


def test_django_migrations_replayed(tmp_path):
    migration = '''
        from django.conf import settings
        from django.db import migrations, models

        class Migration(migrations.Migration):
            operations = [
                migrations.CreateModel(name="Bot", fields=[
                    ("id", models.AutoField(primary_key=True)),
                    ("workspace_id", models.IntegerField()),
                ], options={"db_table": "bots"}),
                migrations.CreateModel(name="Conversation", fields=[
                    ("id", models.AutoField(primary_key=True)),
                    ("bot", models.ForeignKey(on_delete=models.CASCADE, to="chat.bot")),
                ]),
                migrations.CreateModel(name="Message", fields=[
                    ("id", models.AutoField(primary_key=True)),
                ]),
                migrations.AddField(model_name="message", name="conversation",
                                    field=models.ForeignKey(on_delete=models.CASCADE, to="chat.conversation")),
                migrations.CreateModel(name="Note", fields=[
                    ("id", models.AutoField(primary_key=True)),
                    ("bot", models.ForeignKey(on_delete=models.CASCADE, to="chat.bot")),
                    ("old", models.ForeignKey(on_delete=models.CASCADE, to="chat.bot")),
                ]),
                migrations.AlterField(model_name="note", name="bot",
                                      field=models.ForeignKey(null=True, on_delete=models.CASCADE, to="chat.bot")),
                migrations.RemoveField(model_name="note", name="old"),
            ]
    '''
    catalog = catalog_for(tmp_path, {"chat/migrations/0001_initial.py": migration}, _CONFIG)
    chains = _chains(catalog)
    # `to="chat.bot"` is the model, whose table is `bots` (db_table)
    assert chains["chat_conversation"] == ["chat_conversation.bot_id -> bots"]
    assert chains["chat_message"][0] == "chat_message.conversation_id -> chat_conversation"
    assert "chat_note" not in chains  # altered to null=True; the other key removed


def test_peewee_keys(tmp_path):
    catalog = catalog_for(tmp_path, {"app/models.py": '''
        from peewee import ForeignKeyField, IntegerField, Model

        class Bot(Model):
            workspace_id = IntegerField()

        class Conversation(Model):
            bot = ForeignKeyField(Bot, backref="conversations")

        class Message(Model):
            conversation = ForeignKeyField(model=Conversation)

        class Draft(Model):
            conversation = ForeignKeyField(Conversation, null=True)
    '''}, _CONFIG)
    chains = _chains(catalog)
    assert chains["message"] == ["message.conversation_id -> conversation", "conversation.bot_id -> bot"]
    assert "draft" not in chains
    assert catalog.models["Message"].extra["parents"] == {"conversation_id": "Conversation",
                                                          "conversation": "Conversation"}


def test_ddl_references_in_sql_files_and_strings(tmp_path):
    catalog = catalog_for(tmp_path, {
        "db/001_init.sql": '''
            CREATE TABLE bots (id serial PRIMARY KEY, workspace_id int NOT NULL);
            CREATE TABLE conversations (
                id serial PRIMARY KEY,
                bot_id int NOT NULL REFERENCES bots (id) ON DELETE CASCADE
            );
            CREATE TABLE messages (
                id serial PRIMARY KEY,
                conversation_id int NOT NULL,
                CONSTRAINT fk_conv FOREIGN KEY (conversation_id) REFERENCES public.conversations (id)
            );
            CREATE TABLE drafts (id serial PRIMARY KEY, conversation_id int REFERENCES conversations (id));
            CREATE TABLE files (id serial PRIMARY KEY, message_id int);
        ''',
        "db/002_keys.sql": '''
            ALTER TABLE files ADD CONSTRAINT fk_msg FOREIGN KEY (message_id) REFERENCES messages (id);
            ALTER TABLE files ALTER COLUMN message_id SET NOT NULL;
            ALTER TABLE drafts ADD COLUMN bot_id int NOT NULL REFERENCES bots (id);
        ''',
        "app/schema.py": '''
            def migrate(cur):
                cur.execute("CREATE TABLE tags (id serial PRIMARY KEY, bot_id int NOT NULL REFERENCES bots(id))")
        ''',
    }, _CONFIG)
    chains = _chains(catalog)
    assert chains["conversations"] == ["conversations.bot_id -> bots"]
    assert chains["messages"][0] == "messages.conversation_id -> conversations"
    assert len(chains["files"]) == 3  # the key added and made NOT NULL later
    assert chains["drafts"] == ["drafts.bot_id -> bots"]  # the nullable key ties nothing, the added one does
    assert chains["tags"] == ["tags.bot_id -> bots"]


_ALEMBIC_BOTS = '''
        import sqlalchemy as sa
        from alembic import op

        revision = "a1"
        down_revision = None

        def upgrade():
            op.create_table("bots", sa.Column("id", sa.Integer(), primary_key=True),
                            sa.Column("workspace_id", sa.Integer(), nullable=False))
'''


def test_alembic_keys(tmp_path):
    catalog = catalog_for(tmp_path, {"migrations/versions/a1_init.py": _ALEMBIC_BOTS + '''
            op.create_table("conversations", sa.Column("id", sa.Integer(), primary_key=True),
                            sa.Column("bot_id", sa.Integer(), sa.ForeignKey("bots.id"), nullable=False))
            op.create_table("messages", sa.Column("id", sa.Integer(), primary_key=True),
                            sa.Column("conversation_id", sa.Integer(), nullable=False),
                            sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"]))
            op.create_table("notes", sa.Column("id", sa.Integer(), primary_key=True),
                            sa.Column("bot_id", sa.Integer()))
            op.create_foreign_key("fk_note_bot", "notes", "bots", ["bot_id"], ["id"])
            op.add_column("bots", sa.Column("owner_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True))

        def downgrade():
            op.drop_table("messages")
    '''}, _CONFIG)
    chains = _chains(catalog)
    assert chains["conversations"] == ["conversations.bot_id -> bots"]
    assert chains["messages"][0] == "messages.conversation_id -> conversations"
    assert "notes" not in chains  # bot_id is nullable


def test_alembic_alter_column_makes_a_key_not_null(tmp_path):
    catalog = catalog_for(tmp_path, {"migrations/versions/a1_init.py": _ALEMBIC_BOTS + '''
            op.create_table("notes", sa.Column("id", sa.Integer(), primary_key=True),
                            sa.Column("bot_id", sa.Integer(), sa.ForeignKey("bots.id")))
            op.alter_column("notes", "bot_id", nullable=False)
    '''}, _CONFIG)
    assert _chains(catalog)["notes"] == ["notes.bot_id -> bots"]
