"""SQLAlchemy 2.0 typed models. Attribute columns are typed from the tables in attributes.py."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    and_,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, mapped_column

from ..attributes import AUDIT, MODULE, PROCESS, SET, SINGLECHAR_MAX, Kind
from .sql import ID, Chars, UTCDateTime, desc_nulls_last, event_images, index_key


# Integer on SQLite so that the key is the rowid (AUTOINCREMENT needs exactly INTEGER).
class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
        }
    )


def custom_column():
    """The values of an account's custom attributes (§14), one JSON object per row."""
    return mapped_column(
        JSON().with_variant(JSONB, "postgresql"),
        nullable=False,
        default=dict,
        server_default=text("'{}'"),
    )


def custom_index(model: type[Base]) -> None:
    """PostgreSQL: equality and $in on a custom attribute are containment (@>) on this."""
    table = model.__tablename__
    Index(
        f"ix_{table}_custom",
        model.custom,
        postgresql_using="gin",
        postgresql_ops={"custom": "jsonb_path_ops"},
        info={"dialect": "postgresql"},
    )


def attr_column(kind_: Kind, attr_id: str):
    """The column for one attribute, typed from its kind's attribute table."""
    attr = kind_.by_id[attr_id]
    if not attr.writable:  # the business, a module's set: ids from the path
        return mapped_column(BigInteger, nullable=False)
    kind = attr.type
    if kind in ("singlechar", "longchar"):
        return mapped_column(Chars(attr.max_length), nullable=False, default="")
    if kind == "int":
        if attr.default is not None:
            return mapped_column(Integer, nullable=False, default=attr.default)
        return mapped_column(Integer, nullable=True)
    if kind == "bool":
        return mapped_column(Boolean, nullable=False, default=False)
    if kind == "enum":
        return mapped_column(Chars(8), nullable=True, default=attr.default)
    raise ValueError(f"no column type for {attr.id} ({kind})")


class Process(Base):
    __tablename__ = "processes"
    __table_args__ = ({"sqlite_autoincrement": True},)

    bk_process_id: Mapped[int] = mapped_column(ID, Identity(), primary_key=True)
    bk_supplier_account: Mapped[str] = mapped_column(Chars(64))
    bk_biz_id: Mapped[int] = attr_column(PROCESS, "bk_biz_id")
    bk_process_name: Mapped[str] = attr_column(PROCESS, "bk_process_name")
    description: Mapped[str] = attr_column(PROCESS, "description")
    bind_ip: Mapped[str | None] = attr_column(PROCESS, "bind_ip")
    port: Mapped[str] = attr_column(PROCESS, "port")
    protocol: Mapped[str | None] = attr_column(PROCESS, "protocol")
    bk_func_id: Mapped[str] = attr_column(PROCESS, "bk_func_id")
    bk_func_name: Mapped[str] = attr_column(PROCESS, "bk_func_name")
    work_path: Mapped[str] = attr_column(PROCESS, "work_path")
    user: Mapped[str] = attr_column(PROCESS, "user")
    proc_num: Mapped[int | None] = attr_column(PROCESS, "proc_num")
    priority: Mapped[int | None] = attr_column(PROCESS, "priority")
    timeout: Mapped[int | None] = attr_column(PROCESS, "timeout")
    start_cmd: Mapped[str] = attr_column(PROCESS, "start_cmd")
    stop_cmd: Mapped[str] = attr_column(PROCESS, "stop_cmd")
    restart_cmd: Mapped[str] = attr_column(PROCESS, "restart_cmd")
    face_stop_cmd: Mapped[str] = attr_column(PROCESS, "face_stop_cmd")
    reload_cmd: Mapped[str] = attr_column(PROCESS, "reload_cmd")
    pid_file: Mapped[str] = attr_column(PROCESS, "pid_file")
    auto_start: Mapped[bool] = attr_column(PROCESS, "auto_start")
    auto_time_gap: Mapped[int | None] = attr_column(PROCESS, "auto_time_gap")
    bk_start_param_regex: Mapped[str] = attr_column(PROCESS, "bk_start_param_regex")
    create_time: Mapped[datetime] = mapped_column(UTCDateTime)
    last_time: Mapped[datetime] = mapped_column(UTCDateTime)
    custom: Mapped[dict] = custom_column()


def _unique_indexes(model: type[Base], kind: Kind) -> None:
    """One unique index per rule of the kind's unique_rules, within its unique_scope."""
    cols = model.__table__.c
    for rule, attr_ids, when_not_empty in kind.unique_rules:
        attrs = [kind.by_id[a] for a in attr_ids]
        keys = [index_key(cols[a.id]) if a.type == "longchar" else cols[a.id] for a in attrs]
        where = and_(*(cols[a] != "" for a in attr_ids)) if when_not_empty else None
        Index(
            f"uq_{kind.table}_{rule}",
            *(cols[c] for c in kind.unique_scope),
            *keys,
            unique=True,
            postgresql_where=where,
            sqlite_where=where,
        )


_unique_indexes(Process, PROCESS)
# Default paging order within a business; the name index above serves name sorts and $eq.
Index("ix_processes_scope", Process.bk_supplier_account, Process.bk_biz_id, Process.bk_process_id)
# Issue 7 (migration 0003): an equality on bk_func_name, pages sorted by `-priority` (nulls
# last, as query.order puts them; SQLite's DESC index already does), and on PostgreSQL only
# (info["dialect"], honoured by migrations/env.py), a trigram index for substring and $regex
# searches of names.
Index(
    "ix_processes_func_name",
    Process.bk_supplier_account,
    Process.bk_biz_id,
    Process.bk_func_name,
    Process.bk_process_id,
)
Index(
    "ix_processes_priority",
    Process.bk_supplier_account,
    Process.bk_biz_id,
    desc_nulls_last(Process.priority),
    Process.bk_process_id,
)
Index(
    "ix_processes_name_trgm",
    Process.bk_process_name,
    postgresql_using="gin",
    postgresql_ops={"bk_process_name": "gin_trgm_ops"},
    info={"dialect": "postgresql"},
)


class Set(Base):
    """A set of a business (docs/api.md §6)."""

    __tablename__ = "sets"
    __table_args__ = ({"sqlite_autoincrement": True},)

    bk_set_id: Mapped[int] = mapped_column(ID, Identity(), primary_key=True)
    bk_supplier_account: Mapped[str] = mapped_column(Chars(64))
    bk_biz_id: Mapped[int] = attr_column(SET, "bk_biz_id")
    bk_set_name: Mapped[str] = attr_column(SET, "bk_set_name")
    bk_set_desc: Mapped[str] = attr_column(SET, "bk_set_desc")
    bk_set_env: Mapped[str | None] = attr_column(SET, "bk_set_env")
    bk_service_status: Mapped[str | None] = attr_column(SET, "bk_service_status")
    bk_capacity: Mapped[int | None] = attr_column(SET, "bk_capacity")
    description: Mapped[str] = attr_column(SET, "description")
    default: Mapped[int] = attr_column(SET, "default")
    create_time: Mapped[datetime] = mapped_column(UTCDateTime)
    last_time: Mapped[datetime] = mapped_column(UTCDateTime)
    custom: Mapped[dict] = custom_column()


_unique_indexes(Set, SET)
Index("ix_sets_scope", Set.bk_supplier_account, Set.bk_biz_id, Set.bk_set_id)


class Module(Base):
    """A module of a set. It carries its set's account and business, so that a business's
    modules are found by name without a join (bindings, §3)."""

    __tablename__ = "modules"
    __table_args__ = ({"sqlite_autoincrement": True},)

    bk_module_id: Mapped[int] = mapped_column(ID, Identity(), primary_key=True)
    bk_supplier_account: Mapped[str] = mapped_column(Chars(64))
    bk_biz_id: Mapped[int] = attr_column(MODULE, "bk_biz_id")
    bk_set_id: Mapped[int] = mapped_column(
        ID, ForeignKey("sets.bk_set_id", ondelete="CASCADE"), nullable=False
    )
    bk_module_name: Mapped[str] = attr_column(MODULE, "bk_module_name")
    bk_module_type: Mapped[str | None] = attr_column(MODULE, "bk_module_type")
    operator: Mapped[str] = attr_column(MODULE, "operator")
    bk_bak_operator: Mapped[str] = attr_column(MODULE, "bk_bak_operator")
    default: Mapped[int] = attr_column(MODULE, "default")
    create_time: Mapped[datetime] = mapped_column(UTCDateTime)
    last_time: Mapped[datetime] = mapped_column(UTCDateTime)
    custom: Mapped[dict] = custom_column()


_unique_indexes(Module, MODULE)
# A business's modules by name: bindings check and list them (§3).
Index("ix_modules_name", Module.bk_supplier_account, Module.bk_biz_id, Module.bk_module_name)


class ProcessBinding(Base):
    """A process bound to a module *name* of its business (docs/api.md §3, §9). It carries its
    process's account and business (migration 0003), so that a module-name search counts its
    matches from one index range."""

    __tablename__ = "process_bindings"

    bk_process_id: Mapped[int] = mapped_column(
        ID, ForeignKey("processes.bk_process_id", ondelete="CASCADE"), primary_key=True
    )
    # COLLATE "C" on PostgreSQL, like modules.bk_module_name, so that the two compare alike
    bk_module_name: Mapped[str] = mapped_column(Chars(SINGLECHAR_MAX), primary_key=True)
    create_time: Mapped[datetime] = mapped_column(UTCDateTime)
    bk_supplier_account: Mapped[str] = mapped_column(Chars(64))
    bk_biz_id: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        Index(
            "ix_process_bindings_scope",
            "bk_supplier_account",
            "bk_biz_id",
            "bk_module_name",
            "bk_process_id",
        ),
    )


class BindingCount(Base):
    """How many processes of each (account, business) are bound to each module name: kept by
    triggers on process_bindings (migration 0003), read by a search by one module name."""

    __tablename__ = "binding_counts"

    bk_supplier_account: Mapped[str] = mapped_column(Chars(64), primary_key=True)
    bk_biz_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    bk_module_name: Mapped[str] = mapped_column(Chars(SINGLECHAR_MAX), primary_key=True)
    processes: Mapped[int] = mapped_column(BigInteger)


class ProcessCount(Base):
    """How many processes each (account, business) has: kept by triggers on processes
    (migration 0003) through every insert, delete and rollback, so that a search of a whole
    business reads its count instead of counting it."""

    __tablename__ = "process_counts"

    bk_supplier_account: Mapped[str] = mapped_column(Chars(64), primary_key=True)
    bk_biz_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    processes: Mapped[int] = mapped_column(BigInteger)


class CustomCount(Base):
    """How many processes of each (account, business) hold each value of each custom
    attribute: kept by triggers on processes (migration 0005), read by a search whose only
    condition is equality or $in on that attribute. Strings of at most COUNTED_TEXT
    characters, booleans and integers are counted, as text (``true``, ``42``)."""

    __tablename__ = "custom_counts"

    bk_supplier_account: Mapped[str] = mapped_column(Chars(64), primary_key=True)
    bk_biz_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    bk_property_id: Mapped[str] = mapped_column(Chars(128), primary_key=True)
    value: Mapped[str] = mapped_column(Chars(200), primary_key=True)
    processes: Mapped[int] = mapped_column(BigInteger)


COUNTED_TEXT = 200  # migration 0005's bound


class AuditLog(Base):
    """One row per changed object, written in the transaction of the change (docs/api.md §5)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_account_time", "bk_supplier_account", "op_time"),
        Index("ix_audit_log_biz_time", "bk_supplier_account", "bk_biz_id", "op_time"),
        Index("ix_audit_log_target", "bk_supplier_account", "op_target", "inst_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(ID, Identity(), primary_key=True)
    # Code-point order on both databases, like every text column a search sorts or compares.
    bk_supplier_account: Mapped[str] = mapped_column(Chars(64))
    bk_biz_id: Mapped[int | None] = mapped_column(BigInteger)
    op_type: Mapped[int] = mapped_column(SmallInteger)
    op_target: Mapped[str] = mapped_column(Chars(32))
    inst_id: Mapped[int] = mapped_column(BigInteger)
    op_desc: Mapped[str] = mapped_column(Chars(512))
    operator: Mapped[str] = mapped_column(Chars(256))
    op_from: Mapped[str] = mapped_column(Chars(256))
    op_time: Mapped[datetime] = mapped_column(UTCDateTime)
    request_id: Mapped[str] = mapped_column(Chars(128))
    content: Mapped[dict] = mapped_column(JSON().with_variant(JSONB, "postgresql"))


MODELS: dict[str, type[Base]] = {
    "process": Process,
    "set": Set,
    "module": Module,
    "audit": AuditLog,
}

for _kind in (PROCESS, SET, MODULE, AUDIT):  # an attribute table and its model never drift apart
    _missing = set(_kind.output_fields) - set(MODELS[_kind.name].__table__.columns.keys())
    if _missing:
        raise RuntimeError(f"{_kind.name} model lacks attribute columns: {sorted(_missing)}")


for _model in (Process, Set, Module):
    custom_index(_model)


class CustomAttribute(Base):
    """An attribute an account added to a kind (§14): its definition, as bk-cmdb v3.1's
    create_object_attribute takes it. The values live in the kind's ``custom`` column."""

    __tablename__ = "custom_attributes"
    __table_args__ = (
        Index(
            "uq_custom_attributes_property",
            "bk_supplier_account",
            "bk_obj_id",
            "bk_property_id",
            unique=True,
        ),
        {"sqlite_autoincrement": True},
    )

    # from 10001: §11's preset ids are below (migration 0004)
    id: Mapped[int] = mapped_column(ID, Identity(start=10001), primary_key=True)
    bk_supplier_account: Mapped[str] = mapped_column(Chars(64))
    bk_obj_id: Mapped[str] = mapped_column(Chars(16))
    bk_property_id: Mapped[str] = mapped_column(Chars(128))
    bk_property_name: Mapped[str] = mapped_column(Chars(128))
    bk_property_type: Mapped[str] = mapped_column(Chars(16))
    option: Mapped[object] = mapped_column(JSON().with_variant(JSONB, "postgresql"), nullable=True)
    isrequired: Mapped[bool] = mapped_column(Boolean)
    isonly: Mapped[bool] = mapped_column(Boolean)
    editable: Mapped[bool] = mapped_column(Boolean)
    placeholder: Mapped[str] = mapped_column(Chars(2000))
    unit: Mapped[str] = mapped_column(Chars(256))
    description: Mapped[str] = mapped_column(Chars(2000))
    bk_property_group: Mapped[str] = mapped_column(Chars(128))
    creator: Mapped[str] = mapped_column(Chars(256))
    create_time: Mapped[datetime] = mapped_column(UTCDateTime)
    last_time: Mapped[datetime] = mapped_column(UTCDateTime)


class ModelVersion(Base):
    """An account's model version: every model change moves it (services/model.py)."""

    __tablename__ = "model_versions"

    bk_supplier_account: Mapped[str] = mapped_column(Chars(64), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class Event(Base):
    """One change, written in its transaction by audit.record_many (docs/api.md §15). Its id
    is the watch cursor and the delivery order: ids increase in commit order (migration 0006)."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_watch", "bk_supplier_account", "obj_type", "id"),
        Index("ix_events_account", "bk_supplier_account", "id"),
        Index("ix_events_time", "action_time"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(ID, Identity(), primary_key=True)
    bk_supplier_account: Mapped[str] = mapped_column(Chars(64))
    bk_biz_id: Mapped[int | None] = mapped_column(BigInteger)
    event_type: Mapped[str] = mapped_column(Chars(16))  # instdata | relation
    obj_type: Mapped[str] = mapped_column(Chars(32))  # process, set, module, processmodule
    action: Mapped[str] = mapped_column(Chars(16))  # create | update | delete
    inst_id: Mapped[int] = mapped_column(BigInteger)
    action_time: Mapped[datetime] = mapped_column(UTCDateTime)
    request_id: Mapped[str] = mapped_column(Chars(128))
    # Issue 18 (migration 0008): an instance event stores no copy of its images; audit_id names
    # the audit row whose content they are. A relation event stores its own data, no audit_id.
    stored_data: Mapped[list | None] = mapped_column(
        "data", JSON().with_variant(JSONB, "postgresql"), nullable=True, deferred=True
    )
    audit_id: Mapped[int | None] = mapped_column(BigInteger)
    # What every reader gets (the watch, the dispatcher's push body), read-only: the stored
    # data, else the images of the audit row, in the same statement (a correlated lookup of
    # audit_log by its primary key per event): [{"cur_data", "pre_data"}], null where empty.
    data: Mapped[list | None] = column_property(
        func.coalesce(
            stored_data,
            select(event_images(AuditLog.content))
            .where(AuditLog.id == audit_id)
            .correlate_except(AuditLog)
            .scalar_subquery(),
        )
    )


class Subscription(Base):
    """bk-cmdb v3.1's event subscription, and where its delivery stands (§15)."""

    __tablename__ = "event_subscriptions"
    __table_args__ = (
        Index(
            "uq_event_subscriptions_name", "bk_supplier_account", "subscription_name", unique=True
        ),
        {"sqlite_autoincrement": True},
    )

    subscription_id: Mapped[int] = mapped_column(ID, Identity(), primary_key=True)
    bk_supplier_account: Mapped[str] = mapped_column(Chars(64))
    subscription_name: Mapped[str] = mapped_column(Chars(256))
    system_name: Mapped[str] = mapped_column(Chars(256))
    callback_url: Mapped[str] = mapped_column(Chars(2048))
    confirm_mode: Mapped[str] = mapped_column(Chars(16))
    confirm_pattern: Mapped[str] = mapped_column(Chars(1024))
    subscription_form: Mapped[str] = mapped_column(Chars(2048))
    time_out: Mapped[int] = mapped_column(Integer)
    operator: Mapped[str] = mapped_column(Chars(256))
    create_time: Mapped[datetime] = mapped_column(UTCDateTime)
    last_time: Mapped[datetime] = mapped_column(UTCDateTime)
    # delivery: the last event confirmed (or skipped as not matching), counts, errors, lease
    cursor: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger, server_default="0", default=0)
    failure: Mapped[int] = mapped_column(BigInteger, server_default="0", default=0)
    dropped: Mapped[int] = mapped_column(BigInteger, server_default="0", default=0)
    attempts: Mapped[int] = mapped_column(Integer, server_default="0", default=0)
    last_success_time: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(Chars(512), server_default="", default="")
    last_error_time: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    next_attempt_time: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lease_owner: Mapped[str] = mapped_column(Chars(64), server_default="", default="")
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class EventHorizon(Base):
    """One row: the highest event id the retention removed (a watch cursor below has expired)."""

    __tablename__ = "event_horizon"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    removed_through: Mapped[int] = mapped_column(BigInteger)
