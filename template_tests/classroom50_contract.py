"""Classroom 50's rules for ./result.json, written down from its documentation (wiki: Advanced-Autograding, "The
result.json contract") and the checks its runner documents, so that our autograder is tested against them.
Nothing of the platform's code is copied."""

SCHEMA = "classroom50/result/v1"
TYPES = {"individual": "individual", "group": "group", "team": "group"}


def is_count(value) -> bool:
    """A non-negative int; bool and float (even 7.0) are refused."""
    return type(value) is int and value >= 0


def problems(doc, env: dict) -> list[str]:
    """Every rule the document breaks, for a run with the runner's environment env ([] when valid)."""
    if not isinstance(doc, dict):
        return ["the document is not a JSON object"]
    found = []
    if doc.get("schema") != SCHEMA:
        found.append(f"schema is {doc.get('schema')!r}, not {SCHEMA!r}")
    for key, variable in (("classroom", "CLASSROOM"), ("assignment", "ASSIGNMENT")):
        if doc.get(key) != env[variable]:
            found.append(f"{key} {doc.get(key)!r} is not ${variable} {env[variable]!r}")
    owner = doc.get("owner")
    if not (isinstance(owner, str) and owner and owner.lower() == env["USERNAME"].lower()):
        found.append(f"owner {owner!r} is not the repository's user {env['USERNAME']!r}")
    if doc.get("assignment_type") != TYPES.get(env.get("ASSIGNMENT_TYPE", "individual")):
        found.append(f"assignment_type {doc.get('assignment_type')!r} does not match the assignment")
    if not (isinstance(doc.get("submission"), str) and doc["submission"].startswith("submit/")):
        found.append(f"submission {doc.get('submission')!r} is not a submit/ tag")
    for key in ("commit", "release", "review", "datetime"):
        if not (isinstance(doc.get(key), str) and doc[key]):
            found.append(f"{key} is not a non-empty string")
    if not (is_count(doc.get("score")) and is_count(doc.get("max-score")) and doc["score"] <= doc["max-score"]):
        found.append(f"score {doc.get('score')!r} / max-score {doc.get('max-score')!r} are not ints with score <= max")
    tests = doc.get("tests")
    if not isinstance(tests, list):
        return found + ["tests is not a list"]
    for k, test in enumerate(tests):
        if not isinstance(test, dict):
            found.append(f"tests[{k}] is not an object")
            continue
        if not (isinstance(test.get("test-name"), str) and test["test-name"]):
            found.append(f"tests[{k}] has no test-name")
        if type(test.get("passed")) is not bool:
            found.append(f"tests[{k}].passed is not a boolean")
        if not (is_count(test.get("score")) and is_count(test.get("max-score")) and test["score"] <= test["max-score"]):
            found.append(f"tests[{k}] score/max-score are not ints with score <= max")
    if "submitted_by" in doc:
        who = doc["submitted_by"]
        if not (isinstance(who, dict) and isinstance(who.get("username"), str)
                and (who.get("id") is None or type(who.get("id")) is int)):
            found.append("submitted_by is not {username: str, id: int | null}")
    return found
