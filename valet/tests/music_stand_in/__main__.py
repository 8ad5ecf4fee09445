import sys

from valet.tests.music_stand_in import server

sys.exit(server.main())
