"""An example esb plugin from outside the gateway's tree: one connector, one source.

It imports nothing of esb but its SDK; its kinds are its entry-point names.
"""

from esb_example.chat import ChatConfig, ChatConnector
from esb_example.webhook import WebhookConfig, WebhookSource

__all__ = ["ChatConfig", "ChatConnector", "WebhookConfig", "WebhookSource"]
