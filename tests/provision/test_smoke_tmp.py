def test_smoke(lab):
    r = lab.run("provision.yml")
    print(r.stderr[-3000:])
    for t in r.tasks():
        print(t["changed"], t["failed"], t["skipped"], t["name"], t["msg"][:300])
    for c in lab.calls():
        print(c)
    assert r.rc == 0
