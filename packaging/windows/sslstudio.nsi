; NSIS installer for the sslstudio desktop app (Windows x64). NOT BUILT OR TRIED: see packaging/README.md.
;
;   python -m PyInstaller --noconfirm packaging\sslstudio.spec     (gives dist\sslstudio\)
;   makensis /DVERSION=0.1.0 /DDIST=dist\sslstudio packaging\windows\sslstudio.nsi
;
; Per-machine install in Program Files, Start-menu shortcut, .sslproj association, and an
; uninstaller that removes the folder, the shortcut, the association and the registry keys.
Unicode true
!include "MUI2.nsh"

!ifndef VERSION
  !define VERSION "0.1.0"
!endif
!ifndef DIST
  !define DIST "..\..\dist\sslstudio"
!endif
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\sslstudio"

Name "sslstudio ${VERSION}"
OutFile "sslstudio-${VERSION}-win64-setup.exe"
InstallDir "$PROGRAMFILES64\sslstudio"
RequestExecutionLevel admin
SetCompressor /SOLID lzma

!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Section "sslstudio"
  SetOutPath "$INSTDIR"
  File /r "${DIST}\*.*"
  CreateShortcut "$SMPROGRAMS\sslstudio.lnk" "$INSTDIR\sslstudio.exe" "gui"
  WriteRegStr HKLM "Software\Classes\.sslproj" "" "sslstudio.project"
  WriteRegStr HKLM "Software\Classes\sslstudio.project" "" "sslstudio project"
  WriteRegStr HKLM "Software\Classes\sslstudio.project\shell\open\command" "" '"$INSTDIR\sslstudio.exe" gui "%1"'
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayName" "sslstudio"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteUninstaller "$INSTDIR\uninstall.exe"
SectionEnd

Section "Uninstall"
  Delete "$SMPROGRAMS\sslstudio.lnk"
  DeleteRegKey HKLM "Software\Classes\.sslproj"
  DeleteRegKey HKLM "Software\Classes\sslstudio.project"
  DeleteRegKey HKLM "${UNINSTALL_KEY}"
  RMDir /r "$INSTDIR"
SectionEnd
