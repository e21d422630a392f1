"""Users and roles through the admin pages: accounts are opened with a password shown once,
roles and departments change, accounts are deactivated and reactivated; an administrator
cannot demote or deactivate themselves."""

import pytest

from tellcity.accounts.models import User
from tellcity.extensions import db
from tests.admin.helpers import audit, flashes, fresh, post, secret_on
from tests.reports.helpers import department
from tests.web.helpers import post_form, text


@pytest.fixture
def admin(client, login_as, demo_city):
    return login_as("admin")


def sign_in(client, email: str, password: str):
    with client.session_transaction() as session:
        session.clear()
    return post_form(client, "/account/signin", {"email": email, "password": password})


def test_a_new_account_signs_in_with_the_password_shown_once(client, admin, demo_city):
    voirie = department(demo_city, "voirie")
    data = {
        "email": "Nouvel.Agent@Issy.example.org",
        "name": "Nouvel Agent",
        "role": "agent",
        "department_id": voirie.id,
    }
    response = post(client, "/staff/admin/users/new", data)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    password = secret_on(response, "Password")
    user = db.session.query(User).filter_by(email="nouvel.agent@issy.example.org").one()
    assert (user.role, user.department_id, user.city_id) == ("agent", voirie.id, demo_city.id)
    [entry] = audit("users", user.id)
    assert entry.action == "create" and entry.after["role"] == "agent"
    assert "password_hash" not in entry.after
    assert password not in text(client.get("/staff/admin/users"))
    assert user.password_hash not in text(client.get(f"/staff/admin/users/{user.id}"))

    response = sign_in(client, "nouvel.agent@issy.example.org", password)
    assert response.status_code == 302 and response.headers["Location"].endswith("/staff/")


def test_agents_and_managers_need_a_department(client, admin, demo_city):
    data = {"email": "chef@issy.example.org", "name": "", "role": "manager", "department_id": ""}
    response = post(client, "/staff/admin/users/new", data)
    assert response.status_code == 422
    assert "Agents and managers belong to a department: choose one." in text(response)
    assert db.session.query(User).filter_by(email="chef@issy.example.org").count() == 0


def test_an_address_has_one_account(client, admin, demo_city):
    data = {"email": "agent.voirie@issy.example.org", "role": "mayor", "department_id": ""}
    response = post(client, "/staff/admin/users/new", data)
    assert response.status_code == 422
    assert "An account for agent.voirie@issy.example.org already exists." in text(response)


def test_a_role_and_department_change_is_recorded(client, admin, staff, demo_city):
    agent, proprete = staff["agent.voirie"], department(demo_city, "proprete")
    data = {"name": agent.name, "role": "manager", "department_id": proprete.id}
    assert post(client, f"/staff/admin/users/{agent.id}", data).status_code == 302
    agent = fresh(User, agent.id)
    assert (agent.role, agent.department_id) == ("manager", proprete.id)
    [entry] = audit("users", agent.id)
    assert (entry.before["role"], entry.after["role"]) == ("agent", "manager")
    assert entry.after["department_id"] == proprete.id

    data = {"name": agent.name, "role": "mayor", "department_id": proprete.id}
    assert post(client, f"/staff/admin/users/{agent.id}", data).status_code == 302
    assert fresh(User, agent.id).department_id is None  # the mayor's office sees every one


def test_an_administrator_cannot_demote_themselves(client, admin, demo_city):
    data = {
        "name": admin.name,
        "role": "agent",
        "department_id": department(demo_city, "voirie").id,
    }
    response = post(client, f"/staff/admin/users/{admin.id}", data)
    assert response.status_code == 422
    assert "You cannot change your own role: ask another administrator." in text(response)
    assert fresh(User, admin.id).role == "admin"
    assert audit("users") == []


def test_an_administrator_cannot_deactivate_themselves(client, admin, demo_city):
    post(client, f"/staff/admin/users/{admin.id}/active", {"active": "0"})
    assert flashes(client) == ["You cannot deactivate your own account."]
    assert fresh(User, admin.id).is_active is True


def test_a_deactivated_account_cannot_sign_in_until_reactivated(client, admin, staff):
    agent = staff["agent.voirie"]
    agent.set_password("a known password")
    db.session.commit()
    agent_id = agent.id
    assert post(client, f"/staff/admin/users/{agent_id}/active", {"active": "0"}).status_code == 302
    assert fresh(User, agent_id).is_active is False
    assert post(client, f"/staff/admin/users/{agent_id}/active", {"active": "1"}).status_code == 302
    assert fresh(User, agent_id).is_active is True
    entries = audit("users", agent_id)
    assert [(e.before["is_active"], e.after["is_active"]) for e in entries] == [
        (True, False),
        (False, True),
    ]
    post(client, f"/staff/admin/users/{agent_id}/active", {"active": "0"})
    response = sign_in(client, "agent.voirie@issy.example.org", "a known password")
    assert response.status_code == 422


def test_the_list_filters_by_role_and_search(client, admin, demo_city):
    page = text(client.get("/staff/admin/users?role=manager"))
    assert "chef.voirie@issy.example.org" in page and "agent.voirie@" not in page
    page = text(client.get("/staff/admin/users?q=propre"))
    assert "agent.proprete@" in page and "chef.voirie@" not in page
