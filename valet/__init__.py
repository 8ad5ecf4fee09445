import warnings

# oslo.messaging imports oslo.service, whose default backend imports
# eventlet, which prints a ten-line deprecation notice on import. Valet
# does not use eventlet (its services run on threads); keep the notice off
# every start and --help of Valet's commands.
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated',
                        category=Warning)
