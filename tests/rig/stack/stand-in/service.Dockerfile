# One STAND-IN image per service, FROM makerdeck-rig/stand-in:bookworm. scripts/rig/stack-images.js
# passes the build args (see STACK_IMAGES there). Adds no layers: labels, environment and port only.
FROM makerdeck-rig/stand-in:bookworm
ARG SERVICE
ARG IMAGE
ARG VERSION
ARG PORT
LABEL dev.makerdeck.stand-in=true \
      dev.makerdeck.stand-in.for="${IMAGE}" \
      org.opencontainers.image.title="makerdeck stand-in for ${IMAGE}" \
      org.opencontainers.image.version="${VERSION}-stand-in"
ENV STAND_IN_SERVICE="${SERVICE}" STAND_IN_IMAGE="${IMAGE}" STAND_IN_VERSION="${VERSION}" STAND_IN_PORT="${PORT}"
EXPOSE ${PORT}
