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

"""Sphinx configuration of the Valet API reference (os-api-ref).

Built with ``sphinx-build -W -b html api-ref/source api-ref/build/html``.
Nothing here reaches the network: there is no intersphinx mapping, and
openstackdocstheme is used only when it is installed.
"""

import importlib.util

extensions = ['os_api_ref']

# -- General -----------------------------------------------------------------

project = 'Valet API Reference'
copyright = '2025, The Valet developers'
master_doc = 'index'
source_suffix = {'.rst': 'restructuredtext'}
exclude_patterns = []
pygments_style = 'native'
add_module_names = False
show_authors = False

# -- HTML --------------------------------------------------------------------

if importlib.util.find_spec('openstackdocstheme') is not None:
    extensions.append('openstackdocstheme')
    html_theme = 'openstackdocs'
    openstackdocs_repo_name = 'x/valet'
    openstackdocs_bug_project = 'valet'
    openstackdocs_bug_tag = 'api-ref'
    openstackdocs_auto_name = False
    # Do not ask git for the last-updated date of every page.
    openstackdocs_pdf_link = False
    html_last_updated_fmt = None
else:
    html_theme = 'alabaster'

html_theme_options = {}
html_static_path = []
htmlhelp_basename = 'valetapiref'

# -- LaTeX -------------------------------------------------------------------

latex_documents = [
    ('index', 'ValetAPI.tex', 'Valet API Reference',
     'The Valet developers', 'manual'),
]
