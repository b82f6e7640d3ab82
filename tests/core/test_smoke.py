def test_admin_creates_and_reads_a_company(api_as):
    api = api_as("admin")
    created = api.post("/companies", {"name": "ромашка", "legal_form": "ООО", "inn": "7707083893"})
    assert created.status_code == 201, created.body
    got = api.get(f"/companies/{created.body['id']}")
    assert got.body["inn"] == "7707083893"
