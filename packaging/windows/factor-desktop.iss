; Factor Desktop: the Windows installer (Inno Setup 6).
;
;   iscc /DAppVersion=0.1.0 /DSourceDir=dist\FactorDesktop /DOutputDir=dist packaging\windows\factor-desktop.iss
;
; build_installer.py runs this on Windows after PyInstaller (and after signing the programs);
; the installer it makes, dist\FactorDesktop-<version>-setup.exe, is signed the same way.
; Per-user: no administrator rights, installed under %LOCALAPPDATA%\Programs\Factor Desktop, a
; Start-menu entry (and one for the self-test, in a console that stays open), an uninstaller
; (Settings -> Apps), and, if chosen, Factor import files (*.factor.json) imported with a
; double-click into the default firm profile (`factor-desktop import FILE`, its summary shown in
; a console window). The firm's data folder is not touched by the
; uninstaller: it belongs to the user, not to the program.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\FactorDesktop"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif
#define AppName "Factor Desktop"
#define AppExe "FactorDesktop.exe"
#define AppPublisher "Factor"
#define ImportProgId "FactorDesktop.ImportFile"

[Setup]
; A fixed id: upgrades replace the installed version instead of adding a second one.
AppId={{6B1E4C2A-7F3D-4E4B-9C61-3D2A9E5F0C17}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher={#AppPublisher}
VersionInfoVersion={#AppVersion}
DefaultDirName={localappdata}\Programs\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#OutputDir}
OutputBaseFilename=FactorDesktop-{#AppVersion}-setup
SetupIconFile=..\..\resources\icons\factor-desktop.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ChangesAssociations=yes
CloseApplications=yes
; Signing is done by packaging/sign.py before and after iscc, not by a SignTool= line, so
; that a build without a certificate needs no change here.

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "association"; Description: "Open Factor import files (.factor.json) with {#AppName}"; GroupDescription: "File types:"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"
Name: "{group}\{#AppName} Self-Test"; Filename: "{sys}\cmd.exe"; Parameters: "/k """"{app}\factor-desktop.exe"" self-test --gui"""; WorkingDir: "{app}"; IconFilename: "{app}\{#AppExe}"
Name: "{group}\{cm:UninstallProgram,{#AppName}}"; Filename: "{uninstallexe}"
Name: "{userdesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
; Per-user file association (HKCU\Software\Classes), removed by the uninstaller.
Root: HKA; Subkey: "Software\Classes\.factor.json"; ValueType: string; ValueName: ""; ValueData: "{#ImportProgId}"; Flags: uninsdeletevalue; Tasks: association
Root: HKA; Subkey: "Software\Classes\{#ImportProgId}"; ValueType: string; ValueName: ""; ValueData: "Factor import file"; Flags: uninsdeletekey; Tasks: association
Root: HKA; Subkey: "Software\Classes\{#ImportProgId}\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe},0"; Tasks: association
Root: HKA; Subkey: "Software\Classes\{#ImportProgId}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{sys}\cmd.exe"" /k """"{app}\factor-desktop.exe"" import ""%1"""""; Tasks: association

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
