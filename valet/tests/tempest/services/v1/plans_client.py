from valet.tests.tempest.services.v1 import base


class PlansClient(base.ValetClient):
    """/v1/plans: the placement plans of stacks."""

    def list_plans(self):
        return self._get('v1/plans')

    def create_plan(self, **plan):
        return self._post('v1/plans', plan)

    def show_plan(self, plan_id):
        return self._get('v1/plans/%s' % plan_id)

    def update_plan(self, plan_id, **update):
        return self._put('v1/plans/%s' % plan_id, dict(update,
                                                       action='update'))

    def migrate_plan(self, plan_id, **migrate):
        return self._put('v1/plans/%s' % plan_id, dict(migrate,
                                                       action='migrate'))

    def delete_plan(self, plan_id):
        return self._delete('v1/plans/%s' % plan_id)
