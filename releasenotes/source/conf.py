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

"""Sphinx configuration of the Valet release notes (reno).

Built with ``tox -e releasenotes``. reno reads the notes from the git
history, so the build needs the repository, not only the working tree.
"""

import importlib.util

extensions = ['reno.sphinxext']

project = 'Valet Release Notes'
copyright = '2025, The Valet developers'
master_doc = 'index'
source_suffix = {'.rst': 'restructuredtext'}
exclude_patterns = []
pygments_style = 'native'

if importlib.util.find_spec('openstackdocstheme') is not None:
    extensions.append('openstackdocstheme')
    html_theme = 'openstackdocs'
    openstackdocs_repo_name = 'x/valet'
    openstackdocs_bug_project = 'valet'
    openstackdocs_bug_tag = 'releasenotes'
    openstackdocs_auto_name = False
    openstackdocs_pdf_link = False
    html_last_updated_fmt = None
else:
    html_theme = 'alabaster'

html_static_path = []
htmlhelp_basename = 'valetreleasenotes'

# reno: the notes live in releasenotes/notes of this repository.
locale_dirs = ['locale/']
