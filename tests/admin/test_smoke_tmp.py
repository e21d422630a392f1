from tests.web.helpers import text


def test_smoke(client, login_as, demo_city):
    login_as("admin")
    for url in [
        "/staff/admin/",
        "/staff/admin/departments",
        "/staff/admin/departments/new",
        "/staff/admin/departments/2",
        "/staff/admin/categories",
        "/staff/admin/categories/new",
        "/staff/admin/categories/1",
        "/staff/admin/zones",
        "/staff/admin/zones/upload",
        "/staff/admin/zones/1",
        "/staff/admin/rules",
        "/staff/admin/rules/test?category_id=5&lat=48.8285&lon=2.2580",
        "/staff/admin/users",
        "/staff/admin/users/new",
        "/staff/admin/users/1",
        "/staff/admin/reply-templates",
        "/staff/admin/reply-templates/new",
        "/staff/admin/api-keys",
        "/staff/admin/api-keys/new",
        "/staff/admin/audit",
    ]:
        r = client.get(url)
        assert r.status_code == 200, (url, text(r)[:3000])
    print(text(client.get("/staff/admin/rules/test?category_id=5&lat=48.8285&lon=2.2580"))[-6000:])
