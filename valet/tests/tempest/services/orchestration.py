"""A minimal Heat client for the scenario tests (tempest.lib has none)."""

from oslo_serialization import jsonutils as json
from tempest.lib.common import rest_client


class StacksClient(rest_client.RestClient):

    def create_stack(self, name, template, parameters=None):
        resp, body = self.post('stacks', json.dumps({
            'stack_name': name, 'template': template,
            'parameters': parameters or {}, 'disable_rollback': True}))
        self.expected_success(201, resp.status)
        return rest_client.ResponseBody(resp, json.loads(body))

    def show_stack(self, name, stack_id):
        resp, body = self.get('stacks/%s/%s' % (name, stack_id))
        self.expected_success(200, resp.status)
        return rest_client.ResponseBody(resp, json.loads(body))

    def list_resources(self, name, stack_id):
        resp, body = self.get('stacks/%s/%s/resources' % (name, stack_id))
        self.expected_success(200, resp.status)
        return rest_client.ResponseBody(resp, json.loads(body))

    def delete_stack(self, name, stack_id):
        resp, body = self.delete('stacks/%s/%s' % (name, stack_id))
        self.expected_success(204, resp.status)
        return rest_client.ResponseBody(resp, body)
