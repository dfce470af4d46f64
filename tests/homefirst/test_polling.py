"""The ETag/304 helper for polled regions, and the tag that writes their headers."""

from __future__ import annotations

import html
import json
import re

from django.http import HttpResponse
from django.template import Context, Template
from django.test import RequestFactory

from homefirst.polling import etag_of, polled


def test_etags_are_quoted_stable_and_tell_versions_apart():
    assert etag_of(1, "a") == etag_of(1, "a")
    assert etag_of(1, "a") != etag_of(1, "b")
    assert re.fullmatch(r'"[0-9a-f]{24}"', etag_of(1, "a"))


def test_polled_renders_and_tags_a_first_request():
    rendered = []
    request = RequestFactory().get("/region/")
    response = polled(
        request, etag='"v1"', render=lambda: rendered.append(1) or HttpResponse("body")
    )
    assert response.status_code == 200 and response.content == b"body"
    assert response["ETag"] == '"v1"'
    assert "no-cache" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert rendered == [1]


def test_polled_answers_304_without_rendering_when_the_client_is_up_to_date():
    request = RequestFactory().get("/region/", HTTP_IF_NONE_MATCH='"v1"')

    def render():
        raise AssertionError("an unchanged region is not rendered")

    response = polled(request, etag='"v1"', render=render)
    assert response.status_code == 304
    assert response["ETag"] == '"v1"'


def test_polled_renders_again_when_the_version_moved_on():
    request = RequestFactory().get("/region/", HTTP_IF_NONE_MATCH='"v1"')
    response = polled(request, etag='"v2"', render=lambda: HttpResponse("new"))
    assert response.status_code == 200 and response["ETag"] == '"v2"'


def test_poll_headers_send_the_etag_back_and_mark_the_request_as_background():
    out = Template("{% load polling %}<div {% poll_headers etag %}></div>").render(
        Context({"etag": '"abc"'})
    )
    value = html.unescape(re.search(r'hx-headers="([^"]*)"', out).group(1))
    assert json.loads(value) == {"X-HomeFirst-Background": "1", "If-None-Match": '"abc"'}
    empty = Template("{% load polling %}{% poll_headers missing %}").render(Context({}))
    assert json.loads(html.unescape(re.search(r'"(.*)"', empty).group(1))) == {
        "X-HomeFirst-Background": "1"
    }
