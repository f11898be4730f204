"""Graph API plumbing the Meta double's parts share: the error shape
(https://developers.facebook.com/docs/graph-api/guides/error-handling), the `fields` syntax and where a
call's parameters come from (query string, form or JSON body, all of which Graph reads)."""
import secrets

from tests.doubles.base import json_response


class GraphError(Exception):
    """An answer in the Graph API's error shape."""

    def __init__(self, code, message, status=400, subcode=None, user_title=None, user_msg=None,
                 transient=None, headers=None, type_="OAuthException"):
        super().__init__(message)
        self.code, self.message, self.status, self.subcode = code, message, status, subcode
        self.user_title, self.user_msg, self.transient = user_title, user_msg, transient
        self.headers, self.type = headers or {}, type_

    def response(self):
        error = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.transient is not None:
            error["is_transient"] = self.transient
        if self.user_title:
            error["error_user_title"] = self.user_title
        if self.user_msg:
            error["error_user_msg"] = self.user_msg
        error["fbtrace_id"] = "A" + secrets.token_urlsafe(16)
        return json_response({"error": error}, self.status, self.headers)


def token_error(message, subcode=None):
    header = f'OAuth "Facebook Platform" "invalid_token" "{message}"'
    return GraphError(190, message, subcode=subcode, headers={"WWW-Authenticate": header})


def no_object(object_id, method="get"):
    return GraphError(100, f"Unsupported {method} request. Object with ID '{object_id}' does not exist, cannot be "
                           "loaded due to missing permissions, or does not support this operation. Please read the "
                           "Graph API documentation at https://developers.facebook.com/docs/graph-api", subcode=33)


def parse_fields(value):
    """Graph's `fields` syntax into {name: [subfields] or None}: "id,ig{id,username}" -> {...}."""
    if not value:
        return {}
    result, depth, current = {}, 0, ""
    for char in value + ",":
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        if char == "," and depth == 0:
            item = current.strip()
            current = ""
            if not item:
                continue
            if "{" in item:
                name, inner = item.split("{", 1)
                result[name.split(".")[0].strip()] = list(parse_fields(inner.rsplit("}", 1)[0]))
            else:
                result[item.split(".")[0]] = None
        else:
            current += char
    return result


def graph_params(request):
    params = dict(request.args)
    params.update(request.form)
    if request.mimetype == "application/json":
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            params.update({k: v if isinstance(v, str) else str(v) for k, v in body.items()})
    return params
