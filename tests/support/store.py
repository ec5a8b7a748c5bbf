"""What the store tests write: one sales order, as an accept would hand it to the store."""

from __future__ import annotations

from esb.store.accept import NewMessage


def sales_order(n: int, prefix: str = "SO") -> NewMessage:
    """Order ``n`` from the ERP for the MES; ``prefix`` keeps two tests' keys apart."""
    return NewMessage(
        interface="sales-order",
        message_type="sales_order",
        source_system="erp",
        business_key=f"SO-{n}",
        idempotency_key=f"{prefix}-{n}",
        content_type="application/json",
        body=f'{{"OrderNo": "SO-{n}"}}',
        targets=["mes"],
    )
