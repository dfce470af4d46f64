import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_login_page_renders_for_anonymous_visitors(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "Sign in to HomeFirst" in response.content.decode()


def test_wrong_password_is_refused_with_a_message(client, ward_nurse):
    response = client.post(reverse("login"), {"username": "nurse", "password": "wrong"})
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()


def test_ward_staff_land_on_their_wards(client, ward_nurse):
    client.force_login(ward_nurse)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("discharge:site_overview")


@pytest.mark.parametrize("persona", ["social_worker", "system_leader", "family_member"])
def test_others_see_a_home_page_without_ward_links(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert reverse("discharge:site_overview") not in response.content.decode()


def test_sign_out_ends_the_session(client, ward_nurse):
    client.force_login(ward_nurse)
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302
