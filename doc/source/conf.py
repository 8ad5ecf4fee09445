# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""Sphinx configuration of the Valet documentation.

Built with ``tox -e docs`` (``sphinx-build -W -b html doc/source
doc/build/html``). The configuration and policy references are generated
from the code by the oslo.config and oslo.policy extensions, so Valet must
be installed in the build environment. Nothing here reaches the network.
"""

import importlib.util
import os
import warnings

# The oslo extensions import oslo.messaging, whose eventlet import prints
# a deprecation notice (Valet itself does not use eventlet).
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated',
                        category=Warning)

_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))

extensions = [
    'sphinx.ext.todo',
    # ``.. show-options::`` and the downloadable valet.conf.sample.
    'oslo_config.sphinxext',
    'oslo_config.sphinxconfiggen',
    # ``.. show-policy::`` and the downloadable policy.yaml.sample.
    'oslo_policy.sphinxext',
    'oslo_policy.sphinxpolicygen',
]

config_generator_config_file = os.path.join(
    _ROOT, 'etc', 'valet', 'config-generator.conf')
sample_config_basename = '_static/valet'
policy_generator_config_file = os.path.join(
    _ROOT, 'etc', 'valet', 'policy-generator.conf')
sample_policy_basename = '_static/valet'

# -- General -----------------------------------------------------------------

project = 'Valet'
copyright = '2025, The Valet developers'
master_doc = 'index'
source_suffix = {'.rst': 'restructuredtext'}
exclude_patterns = ['_build']
pygments_style = 'native'
add_module_names = False
show_authors = False
todo_include_todos = False

# -- HTML --------------------------------------------------------------------

if importlib.util.find_spec('openstackdocstheme') is not None:
    extensions.append('openstackdocstheme')
    html_theme = 'openstackdocs'
    openstackdocs_repo_name = 'x/valet'
    openstackdocs_bug_project = 'valet'
    openstackdocs_bug_tag = 'doc'
    openstackdocs_auto_name = False
    openstackdocs_pdf_link = False
    # Do not ask git for the last-updated date of every page.
    html_last_updated_fmt = None
else:
    html_theme = 'alabaster'

html_static_path = ['_static']
htmlhelp_basename = 'valetdoc'

# -- LaTeX -------------------------------------------------------------------

latex_documents = [
    ('index', 'Valet.tex', 'Valet Documentation',
     'The Valet developers', 'manual'),
]
