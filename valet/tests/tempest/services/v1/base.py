"""Common ground of the Valet v1 clients: JSON in, (resp, body) out."""

from oslo_serialization import jsonutils as json
from tempest.lib.common import rest_client


class ValetClient(rest_client.RestClient):

    def _body(self, resp, body):
        return rest_client.ResponseBody(resp, json.loads(body) if body
                                        else {})

    def _get(self, url, expected=200):
        resp, body = self.get(url)
        self.expected_success(expected, resp.status)
        return self._body(resp, body)

    def _post(self, url, payload, expected=201):
        resp, body = self.post(url, json.dumps(payload))
        self.expected_success(expected, resp.status)
        return self._body(resp, body)

    def _put(self, url, payload, expected=201):
        resp, body = self.put(url, json.dumps(payload))
        self.expected_success(expected, resp.status)
        return self._body(resp, body)

    def _delete(self, url, expected=204):
        resp, body = self.delete(url)
        self.expected_success(expected, resp.status)
        return self._body(resp, body)
