"""Heat resource types OS::Valet::Group and OS::Valet::GroupAssignment.

Heat has no entry point for resource types: the one-line module in
``valet/plugins/heat/plugin_dir/`` (copied or linked into a directory of
heat.conf's ``plugin_dirs``) imports ``resource_mapping`` from here.
"""

from heat.common import exception
from heat.common.i18n import _
from heat.engine import attributes
from heat.engine import constraints
from heat.engine import properties
from heat.engine import resource
from heat.engine import rsrc_defn
from heat.engine import support

from valet.objects import group_kinds
from valet.plugins.heat import api

# The Valet release whose OS::Valet::Group took every kind of the
# vocabulary with its parameters.
_PARAMETERS_SINCE = '2025.1'


def _type_help():
    newer = ['%s %s' % (kind.name, kind.since)
             for kind in group_kinds.TABLE if kind.since != '1.0']
    return ('Group type: %s. A type newer than Valet API 1.0 needs the '
            'microversion it came with (%s).' % (
                ', '.join(group_kinds.KINDS), ', '.join(newer)))


def _parameter_help(spec):
    kinds = ', '.join(group_kinds.kinds_with(spec.name))
    text = '%s%s, a whole number from %d to %d, for groups of type %s ' \
        'only' % (spec.meaning[:1].upper(), spec.meaning[1:], spec.low,
                  spec.high, kinds)
    if spec.required:
        return text + ', which need it.'
    return text + ' (default %d).' % spec.default


def _parameter_properties():
    # One integer property per parameter of the vocabulary, so a new kind
    # or parameter in valet.objects.group_kinds needs no change here.
    # Which type takes which parameter is checked in validate(): Heat's
    # schema cannot make a property depend on another's value.
    return {name: properties.Schema(
        properties.Schema.INTEGER, _parameter_help(spec),
        constraints=[constraints.Range(spec.low, spec.high)],
        support_status=support.SupportStatus(version=_PARAMETERS_SINCE))
        for name, spec in group_kinds.PARAMETERS.items()}


def _parameter_attributes():
    return {name: attributes.Schema(
        '%s%s (none for a type without %s).' % (
            spec.meaning[:1].upper(), spec.meaning[1:], name),
        type=attributes.Schema.INTEGER,
        support_status=support.SupportStatus(version=_PARAMETERS_SINCE))
        for name, spec in group_kinds.PARAMETERS.items()}


class ValetGroup(resource.Resource):
    """A Valet group: one of the vocabulary's kinds at a level, with the
    kind's parameters (valet.objects.group_kinds).

    The group's Valet id is the resource id; ``get_resource`` gives the
    group's name, usable in a server's ``metadata.valet.groups`` before the
    group exists (a server that names it that way waits for it).
    """

    support_status = support.SupportStatus(version='2024.1')
    default_client_name = 'valet'
    entity = None

    PROPERTIES = (NAME, TYPE, LEVEL, DESCRIPTION, MEMBERS, PARENTS) = (
        'name', 'type', 'level', 'description', 'members', 'parents')
    ATTRIBUTES = (NAME_ATTR, TYPE_ATTR, LEVEL_ATTR, DESCRIPTION_ATTR,
                  MEMBERS_ATTR, PARENTS_ATTR) = PROPERTIES
    # Properties and attributes of the same names: every kind's
    # parameters (max_per_domain, max_skew, weight, ...).
    PARAMETERS = tuple(group_kinds.PARAMETERS)

    properties_schema = {
        NAME: properties.Schema(
            properties.Schema.STRING,
            _('Group name, unique in Valet.'), required=True,
            constraints=[constraints.CustomConstraint('valet.group_name')]),
        TYPE: properties.Schema(
            properties.Schema.STRING, _type_help(), required=True,
            constraints=[constraints.AllowedValues(group_kinds.KINDS)]),
        LEVEL: properties.Schema(
            properties.Schema.STRING,
            _('Topology level the rule applies at: host, rack, or another '
              'level the Valet deployment defines.'), required=True),
        DESCRIPTION: properties.Schema(
            properties.Schema.STRING, _('Description.'),
            update_allowed=True),
        MEMBERS: properties.Schema(
            properties.Schema.LIST,
            _('Projects (ids) that may use the group; none means any.'),
            schema=properties.Schema(properties.Schema.STRING),
            default=[], update_allowed=True),
        PARENTS: properties.Schema(
            properties.Schema.LIST,
            _('Groups (names or ids) this group is nested in: its servers '
              'are members of those groups too, each rule at its own '
              'level (say, a host-level affinity group per tier in a '
              'rack-level diversity group). Needs Valet API microversion '
              '1.4.'),
            schema=properties.Schema(
                properties.Schema.STRING,
                constraints=[constraints.CustomConstraint(
                    'valet.group_name')]),
            update_allowed=True,
            support_status=support.SupportStatus(version='2024.2')),
        **_parameter_properties(),
    }

    attributes_schema = {
        NAME_ATTR: attributes.Schema(_('Group name.'),
                                     type=attributes.Schema.STRING),
        TYPE_ATTR: attributes.Schema(_('Group type.'),
                                     type=attributes.Schema.STRING),
        LEVEL_ATTR: attributes.Schema(_('Group level.'),
                                      type=attributes.Schema.STRING),
        DESCRIPTION_ATTR: attributes.Schema(
            _('Group description.'), type=attributes.Schema.STRING),
        MEMBERS_ATTR: attributes.Schema(_('Member projects.'),
                                        type=attributes.Schema.LIST),
        PARENTS_ATTR: attributes.Schema(
            _('Names of the groups this group is nested in.'),
            type=attributes.Schema.LIST,
            support_status=support.SupportStatus(version='2024.2')),
        **_parameter_attributes(),
    }

    def get_reference_id(self):
        return self.properties[self.NAME]

    def _parameters(self):
        return {name: self.properties[name] for name in self.PARAMETERS}

    def validate(self):
        super().validate()
        kind = self.properties[self.TYPE]
        if kind not in group_kinds.BY_NAME:
            # Not resolved yet (AllowedValues checks it once it is).
            return
        given = {}
        for name, spec in group_kinds.PARAMETERS.items():
            if self.properties.data.get(name) is None:
                continue
            value = self.properties[name]
            # super() checked the range of every resolved value; one not
            # resolved yet (get_attr of a resource not created: Heat gives
            # 0) is given all the same, its range checked at create.
            if not spec.low <= value <= spec.high:
                value = spec.low
            given[name] = value
        for name, why in group_kinds.problems(kind, given):
            raise exception.StackValidationFailed(
                error=_('Property error'),
                path=[self.stack.t.RESOURCES, self.name,
                      self.stack.t.get_section_name(rsrc_defn.PROPERTIES),
                      name],
                message=why)

    def handle_create(self):
        group = self.client().create_group(
            self.properties[self.NAME], self.properties[self.TYPE],
            self.properties[self.LEVEL], self.properties[self.DESCRIPTION],
            parents=self.properties[self.PARENTS], **self._parameters())
        self.resource_id_set(group['id'])
        members = self.properties[self.MEMBERS]
        if members:
            try:
                self.client().add_members(group['id'], members)
            except Exception:
                # A group without the members asked for is not this
                # resource; Heat retries the create from scratch.
                with self.client_plugin().ignore_not_found:
                    self.client().delete_group(group['id'])
                self.resource_id_set(None)
                raise

    def handle_update(self, json_snippet, tmpl_diff, prop_diff):
        if self.DESCRIPTION in prop_diff or self.PARENTS in prop_diff:
            # One call: Valet checks the new nesting before it changes.
            description = (prop_diff[self.DESCRIPTION] or ''
                           if self.DESCRIPTION in prop_diff else None)
            parents = (prop_diff[self.PARENTS] or []
                       if self.PARENTS in prop_diff else None)
            self.client().update_group(self.resource_id, description,
                                       parents=parents)
        if self.MEMBERS in prop_diff:
            old = set(self.properties[self.MEMBERS] or [])
            new = set(prop_diff[self.MEMBERS] or [])
            if new - old:
                self.client().add_members(self.resource_id,
                                          sorted(new - old))
            for member in sorted(old - new):
                with self.client_plugin().ignore_not_found:
                    self.client().remove_member(self.resource_id, member)

    def handle_delete(self):
        return self.resource_id

    def check_delete_complete(self, group_id):
        """Remove members, then the group; a 409 (Valet has not yet seen
        the stack's servers go) is polled again, not a failure."""
        if group_id is None:
            return True
        try:
            group = self.client().get_group(group_id)
            for member in group.get('members') or []:
                self.client().remove_member(group_id, member)
            self.client().delete_group(group_id)
        except api.ValetError as exc:
            if exc.status == 404:
                return True
            if exc.status == 409:
                return False
            raise
        return True

    def _show_resource(self):
        # Only a kind with parameters asks for the (newer) microversion
        # that shows them.
        return self.client().get_group(
            self.resource_id, parents=True,
            parameters=bool(group_kinds.parameters_of(
                self.properties[self.TYPE])))

    def _resolve_attribute(self, name):
        if self.resource_id is None:
            value = self.properties.get(name)
            if value is None and name in self.PARAMETERS:
                # What Valet will give the group.
                value = group_kinds.default(self.properties[self.TYPE],
                                            name)
            return value
        group = self._show_resource()
        return group.get(name)


class ValetGroupAssignment(resource.Resource):
    """Puts resources of this stack in a Valet group.

    ``resources`` are names of servers of this stack, or of resources
    holding servers (a nested template, a ResourceGroup): every server
    under them joins the group. Valet reads assignments when it plans the
    stack; the resource itself keeps nothing in Valet.
    """

    support_status = support.SupportStatus(version='2024.1')

    PROPERTIES = (GROUP, RESOURCES) = ('group', 'resources')

    properties_schema = {
        GROUP: properties.Schema(
            properties.Schema.STRING,
            _('Group name or id, or get_resource of an OS::Valet::Group.'),
            required=True),
        RESOURCES: properties.Schema(
            properties.Schema.LIST,
            _('Names of the resources of this stack that join the group.'),
            schema=properties.Schema(properties.Schema.STRING),
            required=True, update_allowed=True),
    }

    def handle_create(self):
        self.resource_id_set(self.physical_resource_name())

    def handle_update(self, json_snippet, tmpl_diff, prop_diff):
        # Valet re-reads assignments when the stack is re-planned.
        pass


def resource_mapping():
    return {
        'OS::Valet::Group': ValetGroup,
        'OS::Valet::GroupAssignment': ValetGroupAssignment,
    }
