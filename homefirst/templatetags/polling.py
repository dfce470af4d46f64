"""``{% poll_headers etag %}``: the hx-headers of a polled region (see homefirst.polling)."""

from __future__ import annotations

import json

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from homefirst.polling import BACKGROUND_HEADERS

register = template.Library()


@register.simple_tag
def poll_headers(etag: str = "") -> SafeString:
    """Send back the ETag the region shows, and say the request is the page's, not the user's."""
    headers = dict(BACKGROUND_HEADERS)
    if etag:
        headers["If-None-Match"] = etag
    return format_html('hx-headers="{}"', json.dumps(headers))
