"""SQL persistence of orders: one `orders` row per order (with the fields access rules and lists need) and
one `order_versions` row per version, documents kept as entered. Optimistic locking: a save that races
another save of the same order raises Conflict instead of overwriting it."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from openem.core.errors import Conflict, NotFound
from openem.core.time import parse_instant, utcnow
from openem.orders.lifecycle import OrderRecord, OrderVersion
from openem.orders.model import OrderStatus, RequestType
from openem.orders.rules.duplicates import match_keys
from openem.orders.rules.people import COURT_LISTS
from openem.store.base import Base
from openem.store.types import UTCDateTime


class OrderRow(Base):
    __tablename__ = "orders"
    ref: Mapped[str] = mapped_column(String(40), primary_key=True)
    person_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)  # status of the latest version
    current_status: Mapped[str] = mapped_column(String(20), default="")  # status of the version in force
    created_by: Mapped[str] = mapped_column(String(40), index=True)
    wearer_name: Mapped[str] = mapped_column(String(250), default="")
    cohort: Mapped[str] = mapped_column(String(30), default="")
    notifying_organisation_name: Mapped[str] = mapped_column(String(120), default="", index=True)
    police_area: Mapped[str] = mapped_column(String(80), default="", index=True)
    responsible_officer_email: Mapped[str] = mapped_column(String(200), default="", index=True)
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    row_version: Mapped[int] = mapped_column(Integer, default=1)


class OrderVersionRow(Base):
    __tablename__ = "order_versions"
    ref: Mapped[str] = mapped_column(ForeignKey("orders.ref"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    request_type: Mapped[str] = mapped_column(String(30))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    rejection_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)

    __table_args__ = (Index("ix_order_versions_status", "status"),)


class OrderMatchKeyRow(Base):
    """The duplicate-check keys of an order version (identifiers, date of birth): `rules.duplicates.match_keys`."""

    __tablename__ = "order_match_keys"
    ref: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), primary_key=True)

    __table_args__ = (Index("ix_order_match_keys_key", "key"),)


def _dt(value: str | None) -> datetime | None:
    return parse_instant(value) if value else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def summary_fields(doc: dict[str, Any]) -> dict[str, Any]:
    """The fields of a document the orders table keeps for access rules, lists and search."""
    wearer = doc.get("device_wearer") or {}
    parties = doc.get("interested_parties") or {}
    monitoring = doc.get("monitoring") or {}
    risk = doc.get("offence_risk") or {}
    name = " ".join(str(wearer.get(k) or "") for k in ("first_name", "last_name")).strip()
    # the organisation whose people see the order: the court or prison named, else (Home Office, probation,
    # which CEMO gives no name) the organisation itself
    organisation = parties.get("notifying_organisation_name") or (
        parties.get("notifying_organisation")
        if parties.get("notifying_organisation") not in COURT_LISTS
        else ""
    )
    return {
        "wearer_name": name[:250],
        "cohort": str(monitoring.get("cohort") or "")[:30],
        "notifying_organisation_name": str(organisation or "")[:120],
        "police_area": str(parties.get("police_area") or "")[:80],
        "responsible_officer_email": str(parties.get("responsible_officer_email") or "").lower()[:200],
        "restricted": bool(risk.get("specials")) or monitoring.get("cohort") == "SPECIALS",
    }


class SqlOrderRepository:
    """`OrderRepository` over SQLAlchemy, within the caller's unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._loaded_at: dict[str, int] = {}

    def get(self, ref: str) -> OrderRecord | None:
        row = self.session.get(OrderRow, ref)
        if row is None:
            return None
        self._loaded_at[ref] = row.row_version
        versions = self.session.execute(
            select(OrderVersionRow).where(OrderVersionRow.ref == ref).order_by(OrderVersionRow.version)
        ).scalars()
        return OrderRecord(
            ref=ref,
            person_id=row.person_id,
            versions=tuple(
                OrderVersion(
                    version=v.version,
                    status=OrderStatus(v.status),
                    request_type=RequestType(v.request_type),
                    document=dict(v.document),
                    created_by=v.created_by,
                    created_at=_iso(v.created_at) or "",
                    submitted_at=_iso(v.submitted_at),
                    decided_at=_iso(v.decided_at),
                    rejection_reasons=tuple(v.rejection_reasons or ()),
                )
                for v in versions
            ),
        )

    def row_version(self, ref: str) -> int | None:
        row = self.session.get(OrderRow, ref)
        return row.row_version if row is not None else None

    def expect_version(self, ref: str, expected: int | None) -> None:
        """Optimistic locking for people editing concurrently: the version their page or client was built
        from must still be the current one."""
        if expected is not None and self.row_version(ref) != expected:
            raise Conflict(
                "Somebody else changed this order since you opened it: reload it to see their changes"
            )

    def add(self, record: OrderRecord) -> None:
        if self.session.get(OrderRow, record.ref) is not None:
            raise Conflict(f"Order {record.ref} already exists")
        self.session.add(
            OrderRow(
                ref=record.ref,
                person_id=record.person_id,
                status=record.latest.status.value,
                current_status=record.current.status.value if record.current else "",
                created_by=record.versions[0].created_by,
                updated_at=utcnow(),
                row_version=1,
                **summary_fields(record.latest.document),
            )
        )
        self.session.flush()
        self._write_versions(record)
        self._loaded_at[record.ref] = 1

    def save(self, record: OrderRecord) -> None:
        expected = self._loaded_at.get(record.ref)
        if expected is None:
            raise NotFound(f"Order {record.ref} not found")
        values = {
            "status": record.latest.status.value,
            "person_id": record.person_id,
            "updated_at": utcnow(),
            "current_status": record.current.status.value if record.current else "",
            "row_version": expected + 1,
            **summary_fields(record.latest.document),
        }
        result = self.session.execute(
            update(OrderRow)
            .where(OrderRow.ref == record.ref, OrderRow.row_version == expected)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            raise Conflict(
                "Somebody else changed this order while you were working on it: reload it and try again"
            )
        self._loaded_at[record.ref] = expected + 1
        self._write_versions(record)

    def _write_versions(self, record: OrderRecord) -> None:
        for v in record.versions:
            row = self.session.get(OrderVersionRow, (record.ref, v.version))
            if row is None or v is record.latest:  # earlier versions are frozen: their keys stand
                self._write_keys(record.ref, v.version, v.document)
            if row is None:
                row = OrderVersionRow(ref=record.ref, version=v.version)
                self.session.add(row)
            row.status = v.status.value
            row.request_type = v.request_type.value
            row.document = v.document
            row.created_by = v.created_by
            row.created_at = _dt(v.created_at) or utcnow()
            row.submitted_at = _dt(v.submitted_at)
            row.decided_at = _dt(v.decided_at)
            row.rejection_reasons = list(v.rejection_reasons)
        self.session.flush()

    def _write_keys(self, ref: str, version: int, document: dict[str, Any]) -> None:
        keys = match_keys(document)
        have = set(self.session.scalars(select(OrderMatchKeyRow.key).where(
            OrderMatchKeyRow.ref == ref, OrderMatchKeyRow.version == version)))  # fmt: skip
        if have - keys:
            self.session.execute(delete(OrderMatchKeyRow).where(
                OrderMatchKeyRow.ref == ref, OrderMatchKeyRow.version == version,
                OrderMatchKeyRow.key.in_(have - keys)))  # fmt: skip
        self.session.add_all(OrderMatchKeyRow(ref=ref, version=version, key=k) for k in sorted(keys - have))

    def active_documents(self, keys: Collection[str] | None = None) -> Iterable[dict[str, Any]]:
        # One query: the version in force of accepted or active orders (not one query per order); given keys,
        # only those sharing one through the key index (a handful, not every active order in the country).
        live = (OrderStatus.ACCEPTED.value, OrderStatus.ACTIVE.value, OrderStatus.SUSPENDED.value)
        query = select(OrderVersionRow.ref, OrderVersionRow.document).where(OrderVersionRow.status.in_(live))
        if keys is not None:
            if not keys:
                return
            sharing = select(OrderMatchKeyRow.ref).where(
                OrderMatchKeyRow.ref == OrderVersionRow.ref, OrderMatchKeyRow.version == OrderVersionRow.version,
                OrderMatchKeyRow.key.in_(sorted(keys)))  # fmt: skip
            query = query.where(sharing.exists())
        rows = self.session.execute(query)
        for ref, document in rows:
            yield {**document, "ref": ref}


class OrderDocumentRow(Base):
    """An uploaded document of an order (licence, court order, photo ID...), kept as uploaded."""

    __tablename__ = "order_documents"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    ref: Mapped[str] = mapped_column(ForeignKey("orders.ref"), index=True)
    document_type: Mapped[str] = mapped_column(String(30))
    filename: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))  # sniffed: pdf, png, jpeg
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(40))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
